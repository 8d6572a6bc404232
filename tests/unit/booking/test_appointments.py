from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from services.booking.domain.appointments import Appointment, Diary, Referral, Urgency
from services.booking.domain.errors import (
    CancellationTooLate,
    InvalidTransition,
    OutsideBookingWindow,
    ReasonRequired,
    SessionFull,
    SlotTaken,
    StudentAlreadyBooked,
    UnknownAppointment,
)
from services.booking.domain.model import (
    AdviserKind,
    AppointmentStatus,
    Interval,
    Role,
    SessionType,
    SessionTypeConfig,
)
from tests.unit.booking.example_school import SCHOOL_ID, london

pytestmark = pytest.mark.unit

TEN = Interval(london(2025, 3, 3, 10), london(2025, 3, 3, 10, 40))


def appointment(id_: str = "appt-1", **changes: Any) -> Appointment:
    base = Appointment(
        id=id_,
        school_id=SCHOOL_ID,
        student_id="student-1",
        adviser_id="pa-a",
        session_type=SessionType.INTERVIEW,
        interval=TEN,
        room="Careers room",
        booked_by=Role.STUDENT,
    )
    return replace(base, **changes)


def at_minutes(start_minute: int, length: int = 40) -> Interval:
    start = london(2025, 3, 3, 9) + timedelta(minutes=start_minute)
    return Interval(start, start + timedelta(minutes=length))


def test_new_appointment_is_confirmed_at_revision_one():
    booked = appointment()
    assert booked.status is AppointmentStatus.CONFIRMED
    assert booked.revision == 1
    assert booked.is_active


def test_student_may_cancel_before_the_cutoff():
    cancelled = appointment().cancel(Role.STUDENT, None, TEN.start - timedelta(hours=25))
    assert cancelled.status is AppointmentStatus.CANCELLED
    assert cancelled.cancelled_by is Role.STUDENT
    assert cancelled.revision == 2
    assert not cancelled.is_active


def test_student_cannot_cancel_inside_the_cutoff():
    with pytest.raises(CancellationTooLate) as refused:
        appointment().cancel(Role.STUDENT, "ill", TEN.start - timedelta(hours=23))
    assert refused.value.cutoff == TEN.start - timedelta(hours=24)
    assert "coordinator" in refused.value.message


def test_staff_may_cancel_at_any_time_with_a_reason():
    cancelled = appointment().cancel(Role.COORDINATOR, "  trip clash ", TEN.start)
    assert cancelled.cancel_reason == "trip clash"
    with pytest.raises(ReasonRequired):
        appointment().cancel(Role.ADVISER, "   ", TEN.start - timedelta(days=3))


def test_cancelled_appointment_cannot_be_cancelled_again():
    cancelled = appointment().cancel(Role.COORDINATOR, "duplicate", TEN.start)
    with pytest.raises(InvalidTransition, match="cancelled"):
        cancelled.cancel(Role.COORDINATOR, "again", TEN.start)


def test_reschedule_keeps_the_id_and_bumps_the_revision():
    later = at_minutes(120)
    moved = appointment().reschedule(
        later, "pa-b", TEN.start - timedelta(days=1), room="Room 2", by_role=Role.STUDENT
    )
    assert (moved.id, moved.revision) == ("appt-1", 2)
    assert (moved.interval, moved.adviser_id, moved.room) == (later, "pa-b", "Room 2")


def test_reschedule_into_the_past_or_of_a_cancelled_appointment_is_refused():
    now = TEN.start - timedelta(minutes=30)
    with pytest.raises(OutsideBookingWindow, match="already passed"):
        appointment().reschedule(at_minutes(-60), "pa-a", now, by_role=Role.COORDINATOR)
    cancelled = appointment().cancel(Role.COORDINATOR, "moved away", now)
    with pytest.raises(InvalidTransition):
        cancelled.reschedule(at_minutes(300), "pa-a", now, by_role=Role.COORDINATOR)


def test_attendance_is_only_recorded_once_the_appointment_has_started():
    with pytest.raises(InvalidTransition, match="not started"):
        appointment().mark_attendance(True, TEN.start - timedelta(minutes=1))
    attended, chase = appointment().mark_attendance(True, TEN.start + timedelta(minutes=5))
    assert attended.status is AppointmentStatus.ATTENDED
    assert attended.attendance is not None and attended.attendance.attended
    assert chase is None
    with pytest.raises(InvalidTransition):
        attended.mark_attendance(False, TEN.end)


def test_no_show_produces_a_chase_for_that_student():
    missed, chase = appointment().mark_attendance(False, TEN.end)
    assert missed.status is AppointmentStatus.NO_SHOW
    assert missed.revision == 2
    assert chase is not None
    assert (chase.appointment_id, chase.student_id, chase.starts_at) == (
        "appt-1",
        "student-1",
        TEN.start,
    )


def test_referral_is_carried_on_the_appointment():
    referral = Referral("post-16 options", Urgency.URGENT, AdviserKind.SEN, Role.COORDINATOR)
    assert appointment(referral=referral).referral == referral


def test_diary_refuses_a_second_booking_of_the_same_adviser_time():
    diary = Diary([appointment()])
    with pytest.raises(SlotTaken) as refused:
        diary.book(appointment("appt-2", student_id="student-2", interval=at_minutes(70)))
    assert "no longer free" in refused.value.message


def test_diary_refuses_a_student_in_two_places_at_once():
    diary = Diary([appointment()])
    with pytest.raises(StudentAlreadyBooked):
        diary.book(appointment("appt-2", adviser_id="pa-b", interval=at_minutes(50)))


def test_back_to_back_appointments_are_allowed():
    diary = Diary([appointment()])
    diary.book(appointment("appt-2", student_id="student-2", interval=at_minutes(100)))
    diary.book(appointment("appt-3", adviser_id="pa-b", interval=at_minutes(20)))
    assert [a.id for a in diary.for_adviser("pa-a")] == ["appt-1", "appt-2"]
    assert [a.id for a in diary.for_student("student-1")] == ["appt-3", "appt-1"]


def test_cancelling_frees_the_time_for_someone_else():
    diary = Diary([appointment()])
    cancelled = diary.cancel("appt-1", Role.STUDENT, None, TEN.start - timedelta(days=2))
    diary.book(appointment("appt-2", student_id="student-2"))
    assert cancelled.status is AppointmentStatus.CANCELLED
    assert [a.id for a in diary.active()] == ["appt-2"]


def test_rescheduling_into_a_clash_is_refused_and_leaves_the_original():
    diary = Diary([appointment(), appointment("appt-2", student_id="s2", interval=at_minutes(120))])
    with pytest.raises(SlotTaken):
        diary.reschedule(
            "appt-1", at_minutes(130), "pa-a", TEN.start - timedelta(days=1), by_role=Role.STUDENT
        )
    assert diary.get("appt-1") == appointment()
    moved = diary.reschedule(
        "appt-1", at_minutes(200), "pa-a", TEN.start - timedelta(days=1), by_role=Role.STUDENT
    )
    assert diary.get("appt-1") == moved


def test_unknown_appointment_is_reported():
    with pytest.raises(UnknownAppointment):
        Diary().cancel("missing", Role.COORDINATOR, "x", TEN.start)


def test_group_session_takes_students_up_to_capacity():
    configs = {SessionType.GROUP: SessionTypeConfig(length_minutes=60, capacity=2)}
    hour = at_minutes(60, length=60)
    diary = Diary(session_types=configs)

    def seat(n: int) -> Appointment:
        return appointment(
            f"g{n}", student_id=f"s{n}", session_type=SessionType.GROUP, interval=hour
        )

    diary.book(seat(1))
    diary.book(seat(2))
    with pytest.raises(SessionFull):
        diary.book(seat(3))
    with pytest.raises(StudentAlreadyBooked):
        diary.book(replace(seat(1), id="g1-again"))
    with pytest.raises(SlotTaken):
        diary.book(appointment("i1", student_id="s9", interval=at_minutes(90)))
    assert len(diary.for_adviser("pa-a")) == 2


def test_errors_carry_a_plain_message_without_ids():
    diary = Diary([appointment()])
    with pytest.raises(StudentAlreadyBooked) as refused:
        diary.book(appointment("appt-2", adviser_id="pa-b"))
    assert refused.value.message == str(refused.value)
    assert "student-1" not in refused.value.message
    assert refused.value.code == "student_already_booked"


def test_a_student_cannot_move_an_appointment_after_the_cancellation_cut_off():
    late = TEN.start - timedelta(hours=2)
    with pytest.raises(CancellationTooLate):
        appointment().reschedule(at_minutes(24 * 60), "pa-a", late, by_role=Role.STUDENT)
    moved = appointment().reschedule(at_minutes(24 * 60), "pa-a", late, by_role=Role.COORDINATOR)
    assert moved.revision == 2


def test_nobody_moves_an_appointment_that_has_started():
    started = TEN.start + timedelta(minutes=10)
    with pytest.raises(InvalidTransition, match="already started"):
        appointment().reschedule(at_minutes(7 * 24 * 60), "pa-a", started, by_role=Role.ADMIN)
