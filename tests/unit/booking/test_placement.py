"""The booking decision as one pure call: `place(request, context) -> Placement`."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from services.booking.domain.appointments import Appointment, Referral
from services.booking.domain.errors import (
    NoAdviserAvailable,
    OutsideBookingWindow,
    SessionTypeNotOffered,
    SlotUnavailable,
    StudentAlreadyBooked,
    UnknownSchool,
    UnknownStudent,
)
from services.booking.domain.model import (
    LONDON,
    AdviserKind,
    AppointmentStatus,
    Interval,
    PriorityFlag,
    Role,
    SessionType,
    SessionTypeConfig,
)
from services.booking.domain.placement import (
    PlacementContext,
    PlacementRequest,
    Seat,
    place,
    place_key,
)
from tests.unit.booking.example_school import (
    CONFIDENTIAL_ROOM,
    SCHOOL_ID,
    agreement,
    attendance,
    london,
    school_calendar,
)
from tests.unit.booking.placing import context, student

pytestmark = pytest.mark.unit

SLOT = london(2025, 3, 3, 10, 20)  # on the 40-minute grid from 09:00
NOW = london(2025, 2, 24, 12)
TWO_ADVISERS = agreement(attendance("pa-a"), attendance("pa-b"))
CALENDAR = school_calendar()


def request(**changes: Any) -> PlacementRequest:
    base = PlacementRequest(
        appointment_id="appt-new",
        school_id=SCHOOL_ID,
        session_type=SessionType.INTERVIEW,
        starts_at=SLOT,
        student_id="student-1",
        booked_by=Role.STUDENT,
        now=NOW,
    )
    return replace(base, **changes)


def booked(adviser_id: str, id_: str = "appt-old", **changes: Any) -> Appointment:
    base = Appointment(
        id=id_,
        school_id=SCHOOL_ID,
        student_id="student-2",
        adviser_id=adviser_id,
        session_type=SessionType.INTERVIEW,
        interval=Interval(SLOT, SLOT + timedelta(minutes=40)),
        room=CONFIDENTIAL_ROOM,
        booked_by=Role.STUDENT,
    )
    return replace(base, **changes)


def test_a_free_slot_is_placed_with_one_of_its_advisers_in_their_room() -> None:
    placement = place(request(), context(TWO_ADVISERS, CALENDAR, student(), SLOT))
    appointment = placement.appointment
    assert appointment.id == "appt-new"
    assert appointment.adviser_id in {"pa-a", "pa-b"}
    assert appointment.interval == Interval(SLOT, SLOT + timedelta(minutes=40))
    assert appointment.room == CONFIDENTIAL_ROOM
    assert (appointment.status, appointment.revision) == (AppointmentStatus.CONFIRMED, 1)
    assert placement.seat == Seat("appt-new", 1, 1)
    assert placement.zone == LONDON
    assert not placement.accepts_offer


def test_an_unknown_school_is_refused_before_anything_is_looked_at() -> None:
    with pytest.raises(UnknownSchool):
        place(request(), PlacementContext(calendar=None))


def test_a_student_of_another_school_is_refused_before_the_agreement() -> None:
    elsewhere = student(school_id="another-school")
    with pytest.raises(UnknownStudent):
        place(request(), PlacementContext(CALENDAR, None, elsewhere))


def test_without_an_agreement_no_time_is_bookable() -> None:
    with pytest.raises(SlotUnavailable):
        place(request(), PlacementContext(CALENDAR, None, student()))


def test_a_session_type_the_agreement_does_not_offer_is_refused() -> None:
    interviews_only = replace(
        TWO_ADVISERS, session_types={SessionType.INTERVIEW: SessionTypeConfig(40)}
    )
    with pytest.raises(SessionTypeNotOffered):
        place(
            request(session_type=SessionType.GROUP),
            PlacementContext(CALENDAR, interviews_only, student()),
        )


def test_a_time_inside_the_minimum_notice_is_refused() -> None:
    with pytest.raises(OutsideBookingWindow):
        place(
            request(now=SLOT - timedelta(hours=1)),
            context(TWO_ADVISERS, CALENDAR, student(), SLOT),
        )


def test_a_time_no_adviser_offers_is_unavailable() -> None:
    at_noon = london(2025, 3, 3, 13)
    with pytest.raises(SlotUnavailable):
        place(request(starts_at=at_noon), context(TWO_ADVISERS, CALENDAR, student(), at_noon))


def test_the_adviser_who_is_busy_then_is_not_given_the_appointment() -> None:
    ctx = context(TWO_ADVISERS, CALENDAR, student(), SLOT, booked=[booked("pa-a")])
    assert place(request(), ctx).appointment.adviser_id == "pa-b"


def test_a_slot_every_adviser_is_busy_at_is_unavailable() -> None:
    both = [booked("pa-a"), booked("pa-b", "appt-older")]
    with pytest.raises(SlotUnavailable):
        place(request(), context(TWO_ADVISERS, CALENDAR, student(), SLOT, booked=both))


def test_a_referral_needing_a_kind_nobody_there_has_is_refused() -> None:
    referral = Referral("needs support", required_kind=AdviserKind.INTENSIVE_SUPPORT)
    with pytest.raises(NoAdviserAvailable):
        place(
            request(referral=referral, booked_by=Role.COORDINATOR),
            context(TWO_ADVISERS, CALENDAR, student(), SLOT),
        )


def test_the_students_own_appointment_then_is_a_clash_the_diary_refuses() -> None:
    elsewhere = booked("pa-c", student_id="student-1")
    ctx = context(TWO_ADVISERS, CALENDAR, student(), SLOT, meeting=[elsewhere])
    with pytest.raises(StudentAlreadyBooked):
        place(request(), ctx)


def test_a_targeted_student_keeps_the_adviser_they_saw_before() -> None:
    targeted = student(priority_flags=frozenset({PriorityFlag.NEET_RISK}))
    week_ago = SLOT - timedelta(days=7)
    last_week = booked(
        "pa-b",
        student_id="student-1",
        interval=Interval(week_ago, week_ago + timedelta(minutes=40)),
        status=AppointmentStatus.ATTENDED,
    )
    for student_id in ("student-1", "student-7", "student-9"):
        ctx = context(TWO_ADVISERS, CALENDAR, replace(targeted, student_id=student_id), SLOT)
        seen = replace(last_week, student_id=student_id)
        chosen = place(request(student_id=student_id), replace(ctx, history=[seen]))
        assert chosen.appointment.adviser_id == "pa-b"


def test_a_move_keeps_its_adviser_and_id_and_bumps_the_revision() -> None:
    current = booked(
        "pa-b",
        student_id="student-1",
        interval=Interval(london(2025, 3, 3, 9), london(2025, 3, 3, 9, 40)),
    )
    ctx = context(TWO_ADVISERS, CALENDAR, student(), SLOT)
    moved = place(PlacementRequest.move(current, SLOT, Role.STUDENT, NOW), ctx).appointment
    assert (moved.id, moved.adviser_id, moved.revision) == (current.id, "pa-b", 2)
    assert moved.interval.start == SLOT


def test_a_seat_in_a_group_session_is_one_not_yet_held() -> None:
    groups = agreement(
        attendance("pa-a", session_types=frozenset({SessionType.GROUP})),
        session_types={SessionType.GROUP: SessionTypeConfig(60, capacity=3)},
    )
    hour = Interval(london(2025, 3, 3, 9), london(2025, 3, 3, 10))
    nine = hour.start
    seated = [
        booked(
            "pa-a", f"seat-{n}", student_id=f"s-{n}", session_type=SessionType.GROUP, interval=hour
        )
        for n in (1, 2)
    ]
    ctx = context(groups, CALENDAR, student(), nine, session_type=SessionType.GROUP, booked=seated)
    placement = place(request(session_type=SessionType.GROUP, starts_at=nine), ctx)
    assert placement.seat == Seat(place_key(placement.appointment), 3, 3)


def test_a_student_holding_an_offer_for_the_time_accepts_it_by_booking() -> None:
    ctx = replace(context(TWO_ADVISERS, CALENDAR, student(), SLOT), holds_offer=True)
    assert place(request(), ctx).accepts_offer
