"""The appointment use cases over a fake unit of work: no database, no server, milliseconds."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from services.booking.application.availability import alternatives
from services.booking.application.booking import BookSlot, book_slot
from services.booking.application.dropins import (
    CallNext,
    DropInNotOpen,
    FinishTurn,
    JoinQueue,
    call_next,
    finish,
    join_queue,
    planned,
    store_sessions,
)
from services.booking.application.lifecycle import (
    CancelAppointment,
    RecordAttendance,
    cancel_appointment,
    record_attendance,
)
from services.booking.application.ports import DropInSession, LostRace
from services.booking.application.rescheduling import (
    RescheduleAppointment,
    reschedule_appointment,
)
from services.booking.application.schools import SchoolRecord
from services.booking.application.waitlist import (
    AlreadyWaiting,
    DeclineOffer,
    JoinWaitlist,
    WaitlistInThePast,
    decline_offer,
    join_waitlist,
)
from services.booking.domain.appointments import Appointment
from services.booking.domain.dropin_queue import QueueStatus
from services.booking.domain.errors import (
    CancellationTooLate,
    InvalidTransition,
    OutsideBookingWindow,
    SlotTaken,
    SlotUnavailable,
    StudentAlreadyBooked,
)
from services.booking.domain.model import AppointmentStatus, Role, SessionType
from shared.events.booking import (
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentRescheduled,
    DropInTurn,
    NoShowChase,
    WaitlistOfferMade,
)
from tests.unit.booking.example_school import (
    SCHOOL_ID,
    agreement,
    attendance,
    london,
    school_calendar,
)
from tests.unit.booking.fakes import FakeUnitOfWork
from tests.unit.booking.placing import student

pytestmark = pytest.mark.unit

NOW = london(2025, 2, 24, 12)
SLOT = london(2025, 3, 3, 10, 20)
LATER = london(2025, 3, 3, 11)  # 11:00 is on the 40-minute grid from 09:00
TTL = timedelta(hours=4)


def fake_uow() -> FakeUnitOfWork:
    """The example school with two advisers, its coordinator and three students."""
    uow = FakeUnitOfWork()
    directory = uow.reference
    directory.schools[SCHOOL_ID] = SchoolRecord(
        SCHOOL_ID, "Example School", school_calendar(), "coordinator-1", "pa-a"
    )
    directory.agreements[SCHOOL_ID] = agreement(attendance("pa-a"), attendance("pa-b"))
    for n in (1, 2, 3):
        directory.students[f"student-{n}"] = student(f"student-{n}")
    return uow


def booking(student_id: str = "student-1", starts_at: datetime = SLOT) -> BookSlot:
    return BookSlot(SCHOOL_ID, SessionType.INTERVIEW, starts_at, student_id, Role.STUDENT)


async def booked(uow: FakeUnitOfWork, student_id: str = "student-1") -> Appointment:
    appointment = await book_slot(booking(student_id), uow, NOW)
    uow.commits, uow.events = 0, []
    return appointment


async def test_booking_a_free_slot_commits_once_and_emits_one_confirmation() -> None:
    uow = fake_uow()
    appointment = await book_slot(booking(), uow, NOW)
    assert uow.commits == 1
    assert uow.appointments.rows == {appointment.id: appointment}
    (event,) = uow.events
    assert isinstance(event, AppointmentConfirmed)
    assert (event.appointment_id, event.revision, event.time_zone) == (
        appointment.id,
        1,
        "Europe/London",
    )


async def test_a_booking_is_stamped_with_the_time_it_was_given() -> None:
    uow = fake_uow()
    appointment = await book_slot(booking(), uow, NOW)
    assert uow.appointments.stamped[appointment.id] == NOW
    await cancel_appointment(
        CancelAppointment(appointment.id, Role.STUDENT, None), uow, NOW + timedelta(hours=1), TTL
    )
    assert uow.appointments.stamped[appointment.id] == NOW + timedelta(hours=1)


async def test_a_clash_with_the_students_own_booking_is_refused_and_commits_nothing() -> None:
    uow = fake_uow()
    await booked(uow)
    with pytest.raises(StudentAlreadyBooked):
        await book_slot(booking(), uow, NOW)
    assert (uow.commits, uow.events, len(uow.appointments.rows)) == (0, [], 1)


async def test_a_time_both_advisers_are_taken_at_is_refused_and_commits_nothing() -> None:
    uow = fake_uow()
    await booked(uow, "student-1")
    await booked(uow, "student-2")
    with pytest.raises(SlotUnavailable):
        await book_slot(booking("student-3"), uow, NOW)
    assert (uow.commits, uow.events) == (0, [])


async def test_a_booking_beaten_to_its_place_tries_again_from_the_reads() -> None:
    uow = fake_uow()
    uow.races = [LostRace.PLACE, LostRace.PLACE]
    appointment = await book_slot(booking(), uow, NOW)
    assert (uow.commits, len(uow.events)) == (1, 1)
    assert uow.events[0].appointment_id == appointment.id  # type: ignore[attr-defined]


async def test_a_booking_that_keeps_losing_the_race_is_refused_as_taken() -> None:
    uow = fake_uow()
    uow.races = [LostRace.PLACE] * 10
    with pytest.raises(SlotTaken):
        await book_slot(booking(), uow, NOW)
    assert (uow.commits, uow.events) == (0, [])


async def test_losing_the_students_own_race_is_refused_at_once() -> None:
    uow = fake_uow()
    uow.races = [LostRace.STUDENT, LostRace.PLACE]
    with pytest.raises(StudentAlreadyBooked):
        await book_slot(booking(), uow, NOW)
    assert uow.races == [LostRace.PLACE]  # no second attempt


async def test_a_refused_time_names_the_nearest_free_times_instead() -> None:
    uow = fake_uow()
    await booked(uow, "student-1")
    await booked(uow, "student-2")
    nearest = await alternatives(
        uow, SCHOOL_ID, SessionType.INTERVIEW, SLOT, NOW, student_id="student-3", staff=False
    )
    assert [slot.start for slot in nearest] == [
        london(2025, 3, 3, 9, 40),
        london(2025, 3, 3, 11),
        london(2025, 3, 3, 9),
    ]


async def test_cancelling_bumps_the_revision_and_offers_the_place_to_the_waitlist() -> None:
    uow = fake_uow()
    appointment = await booked(uow)
    await join_waitlist(JoinWaitlist(SCHOOL_ID, "student-2", SessionType.INTERVIEW), uow, NOW)
    uow.commits = 0
    cancelled = await cancel_appointment(
        CancelAppointment(appointment.id, Role.STUDENT, None), uow, NOW, TTL
    )
    assert (cancelled.status, cancelled.revision) == (AppointmentStatus.CANCELLED, 2)
    assert uow.commits == 1
    assert uow.types() == ["AppointmentCancelled", "WaitlistOfferMade"]
    cancelled_event, offer = uow.events
    assert isinstance(cancelled_event, AppointmentCancelled)
    assert cancelled_event.revision == 2
    assert isinstance(offer, WaitlistOfferMade)
    assert (offer.student_id, offer.starts_at) == ("student-2", SLOT)


async def test_a_student_cancelling_inside_the_cutoff_is_refused_and_commits_nothing() -> None:
    uow = fake_uow()
    appointment = await booked(uow)
    with pytest.raises(CancellationTooLate):
        await cancel_appointment(
            CancelAppointment(appointment.id, Role.STUDENT, None),
            uow,
            SLOT - timedelta(hours=2),
            TTL,
        )
    assert (uow.commits, uow.events) == (0, [])
    assert uow.appointments.rows[appointment.id].status is AppointmentStatus.CONFIRMED


async def test_booking_the_offered_place_accepts_the_offer() -> None:
    uow = fake_uow()
    appointment = await booked(uow)
    await join_waitlist(JoinWaitlist(SCHOOL_ID, "student-2", SessionType.INTERVIEW), uow, NOW)
    await cancel_appointment(
        CancelAppointment(appointment.id, Role.COORDINATOR, "moved away"), uow, NOW, TTL
    )
    uow.commits, uow.events = 0, []
    await book_slot(booking("student-2"), uow, NOW)
    assert uow.commits == 1
    assert uow.types() == ["WaitlistOfferEnded", "AppointmentConfirmed"]
    assert list(uow.waitlist.entry_status.values()) == ["booked"]


async def test_declining_an_offer_passes_it_to_the_next_in_line() -> None:
    uow = fake_uow()
    appointment = await booked(uow)
    for n in (2, 3):
        await join_waitlist(
            JoinWaitlist(SCHOOL_ID, f"student-{n}", SessionType.INTERVIEW), uow, NOW
        )
    await cancel_appointment(CancelAppointment(appointment.id, Role.STUDENT, None), uow, NOW, TTL)
    (offer,) = await uow.waitlist.open_offers_of("student-2")
    await decline_offer(DeclineOffer(offer.id, "student-2"), uow, NOW + timedelta(minutes=5))
    (passed_on,) = [o for o in uow.waitlist.offers.values() if o.status == "open"]
    assert passed_on.student_id == "student-3"
    assert passed_on.offered_to == {"student-2", "student-3"}


async def test_joining_the_same_waitlist_twice_is_refused() -> None:
    uow = fake_uow()
    join = JoinWaitlist(SCHOOL_ID, "student-2", SessionType.INTERVIEW)
    await join_waitlist(join, uow, NOW)
    with pytest.raises(AlreadyWaiting):
        await join_waitlist(join, uow, NOW)
    assert uow.commits == 1


async def test_rescheduling_keeps_the_id_emits_revision_two_and_offers_the_old_time() -> None:
    uow = fake_uow()
    appointment = await booked(uow)
    await join_waitlist(JoinWaitlist(SCHOOL_ID, "student-2", SessionType.INTERVIEW), uow, NOW)
    uow.commits = 0
    moved = await reschedule_appointment(
        RescheduleAppointment(appointment.id, LATER, Role.STUDENT), uow, NOW, TTL
    )
    assert (moved.id, moved.revision, moved.adviser_id) == (
        appointment.id,
        2,
        appointment.adviser_id,
    )
    assert moved.interval.start == LATER
    assert uow.commits == 1
    rescheduled, offer = uow.events
    assert isinstance(rescheduled, AppointmentRescheduled)
    assert (rescheduled.revision, rescheduled.starts_at) == (2, LATER)
    assert isinstance(offer, WaitlistOfferMade)
    assert offer.starts_at == SLOT


async def test_a_move_to_the_appointments_own_time_changes_and_announces_nothing() -> None:
    uow = fake_uow()
    appointment = await booked(uow)
    uow.commits, uow.events = 0, []
    same = await reschedule_appointment(
        RescheduleAppointment(appointment.id, SLOT, Role.STUDENT), uow, NOW, TTL
    )
    assert same == appointment
    assert (uow.commits, uow.events) == (0, [])
    assert uow.appointments.rows[appointment.id].revision == 1


async def test_a_move_into_the_past_is_refused_as_passed_not_as_too_soon() -> None:
    uow = fake_uow()
    appointment = await booked(uow)
    uow.commits, uow.events = 0, []
    with pytest.raises(OutsideBookingWindow, match="already passed"):
        await reschedule_appointment(
            RescheduleAppointment(appointment.id, NOW - timedelta(days=1), Role.STUDENT),
            uow,
            NOW,
            TTL,
        )
    assert (uow.commits, uow.events) == (0, [])


async def test_booking_a_time_already_past_is_refused_as_passed() -> None:
    uow = fake_uow()
    with pytest.raises(OutsideBookingWindow, match="already passed"):
        await book_slot(booking(starts_at=london(2025, 2, 24, 9, 0)), uow, NOW)
    assert uow.commits == 0


async def test_a_waitlist_whose_days_have_all_passed_is_refused() -> None:
    uow = fake_uow()
    days = JoinWaitlist(
        SCHOOL_ID, "student-2", SessionType.INTERVIEW, date(2025, 2, 10), date(2025, 2, 21)
    )
    with pytest.raises(WaitlistInThePast):
        await join_waitlist(days, uow, NOW)
    assert uow.commits == 0
    today = JoinWaitlist(
        SCHOOL_ID, "student-2", SessionType.INTERVIEW, date(2025, 2, 10), date(2025, 2, 24)
    )
    await join_waitlist(today, uow, NOW)
    assert uow.commits == 1


async def test_a_move_onto_a_taken_time_is_refused_and_commits_nothing() -> None:
    uow = fake_uow()
    mine = await booked(uow, "student-1")
    for n in (2, 3):
        await book_slot(booking(f"student-{n}", LATER), uow, NOW)
    uow.commits, uow.events = 0, []
    with pytest.raises(SlotUnavailable):
        await reschedule_appointment(
            RescheduleAppointment(mine.id, LATER, Role.STUDENT), uow, NOW, TTL
        )
    assert (uow.commits, uow.events) == (0, [])
    assert uow.appointments.rows[mine.id] == mine


async def test_a_no_show_is_recorded_and_chased_naming_the_coordinator() -> None:
    uow = fake_uow()
    appointment = await booked(uow)
    after = SLOT + timedelta(hours=1)
    updated = await record_attendance(RecordAttendance(appointment.id, False), uow, after)
    assert (updated.status, updated.revision) == (AppointmentStatus.NO_SHOW, 2)
    assert uow.commits == 1
    assert uow.types() == ["AppointmentAttendanceRecorded", "NoShowChase"]
    chase = uow.events[1]
    assert isinstance(chase, NoShowChase)
    assert chase.coordinator_id == "coordinator-1"
    assert uow.appointments.stamped[appointment.id] == after


async def test_attendance_before_the_start_is_refused_and_commits_nothing() -> None:
    uow = fake_uow()
    appointment = await booked(uow)
    with pytest.raises(InvalidTransition):
        await record_attendance(RecordAttendance(appointment.id, True), uow, NOW)
    assert (uow.commits, uow.events) == (0, [])


def lunchtime(uow: FakeUnitOfWork) -> DropInSession:
    session = DropInSession(
        "dropin-1", SCHOOL_ID, "pa-a", SLOT, SLOT + timedelta(hours=1), "Library", 15
    )
    uow.dropins.sessions[session.id] = session
    return session


async def test_students_join_a_live_queue_in_turn_and_the_first_is_called() -> None:
    uow = fake_uow()
    session = lunchtime(uow)
    first = await join_queue(JoinQueue(session.id, "student-1"), uow, SLOT)
    second = await join_queue(JoinQueue(session.id, "student-2"), uow, SLOT + timedelta(minutes=1))
    assert (first.position, second.position) == (1, 2)
    assert (first.estimated_wait, second.estimated_wait) == (
        timedelta(minutes=15),
        timedelta(minutes=30),
    )
    called = await call_next(CallNext(session.id, "pa-a"), uow, SLOT + timedelta(minutes=2))
    assert called is not None and called.student_id == "student-1"
    assert uow.commits == 3
    (turn,) = uow.events
    assert isinstance(turn, DropInTurn)
    assert (turn.student_id, turn.location) == ("student-1", "Library")
    done = await finish(
        FinishTurn(session.id, "student-1", seen=True), uow, SLOT + timedelta(minutes=10)
    )
    assert done.status is QueueStatus.COMPLETED


async def test_a_queue_not_open_yet_is_refused_and_commits_nothing() -> None:
    uow = fake_uow()
    session = lunchtime(uow)
    with pytest.raises(DropInNotOpen):
        await join_queue(JoinQueue(session.id, "student-1"), uow, SLOT - timedelta(hours=1))
    assert (uow.commits, uow.dropins.entries) == (0, {})


async def test_drop_in_sessions_are_stored_once_under_ids_derived_from_what_they_are() -> None:
    uow = fake_uow()
    dropin = frozenset({SessionType.DROPIN})
    uow.reference.agreements[SCHOOL_ID] = agreement(
        attendance("pa-a", session_types=dropin, start=time(12), end=time(13))
    )
    found = await planned(uow.schools, SCHOOL_ID, date(2025, 3, 3))
    assert [(s.adviser_id, s.starts_at, s.slot_minutes) for s in found] == [
        ("pa-a", london(2025, 3, 3, 12), 15)
    ]
    assert await planned(uow.schools, SCHOOL_ID, date(2025, 3, 3)) == found
    await store_sessions(found, {}, uow)
    await store_sessions(found, await uow.dropins.stored([s.id for s in found]), uow)
    assert uow.commits == 1
