from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from services.booking.domain.agreement import UniversalPromise
from services.booking.domain.appointments import Appointment
from services.booking.domain.model import (
    AppointmentStatus,
    Interval,
    PriorityFlag,
    Role,
    SessionType,
    Student,
)
from services.booking.domain.reports import (
    adviser_minutes,
    interviews_by_priority_group,
    interviews_by_year_group,
    no_show_rate,
    promise_coverage,
    waitlist_lengths,
)
from services.booking.domain.waitlist import WaitlistEntry
from tests.unit.booking.example_school import SCHOOL_ID, london

pytestmark = pytest.mark.unit

ATTENDED, NO_SHOW, CONFIRMED = (
    AppointmentStatus.ATTENDED,
    AppointmentStatus.NO_SHOW,
    AppointmentStatus.CONFIRMED,
)

STUDENTS = {
    s.student_id: s
    for s in [
        Student("y11-neet", SCHOOL_ID, 11, frozenset({PriorityFlag.NEET_RISK})),
        Student("y11-sen-eal", SCHOOL_ID, 11, frozenset({PriorityFlag.SEN, PriorityFlag.EAL})),
        Student("y11-open", SCHOOL_ID, 11),
        Student("y11-unseen", SCHOOL_ID, 11),
        Student("y10-open", SCHOOL_ID, 10),
    ]
}


def appt(student_id: str, status: AppointmentStatus, day: int = 3, **changes: Any) -> Appointment:
    start = london(2025, 3, day, 10)
    base = Appointment(
        id=f"{student_id}-{day}-{status}",
        school_id=SCHOOL_ID,
        student_id=student_id,
        adviser_id="pa-a",
        session_type=SessionType.INTERVIEW,
        interval=Interval(start, start + timedelta(minutes=40)),
        room="Careers room",
        booked_by=Role.STUDENT,
        status=status,
    )
    return replace(base, **changes)


APPOINTMENTS = [
    appt("y11-neet", ATTENDED),
    appt("y11-sen-eal", ATTENDED, adviser_id="pa-b"),
    appt("y11-open", NO_SHOW),
    appt("y11-open", CONFIRMED, day=20),
    appt("y10-open", ATTENDED),
    appt(
        "y10-open",
        ATTENDED,
        day=4,
        session_type=SessionType.DROPIN,
        interval=Interval(london(2025, 3, 4, 12, 30), london(2025, 3, 4, 12, 45)),
    ),
    appt("y11-unseen", AppointmentStatus.CANCELLED),
]


def test_interviews_attended_are_counted_by_year_group():
    assert interviews_by_year_group(APPOINTMENTS, STUDENTS) == {10: 1, 11: 2}


def test_interviews_are_counted_under_every_priority_flag_and_open_for_none():
    assert interviews_by_priority_group(APPOINTMENTS, STUDENTS) == {
        PriorityFlag.NEET_RISK: 1,
        PriorityFlag.SEN: 1,
        PriorityFlag.EAL: 1,
        None: 1,
    }


def test_promise_coverage_lists_students_neither_seen_nor_booked():
    promise = UniversalPromise(frozenset({11}), by=date(2025, 3, 31))
    coverage = promise_coverage(promise, STUDENTS.values(), APPOINTMENTS)
    assert (coverage.promised, coverage.seen, coverage.booked) == (4, 2, 1)
    assert coverage.not_reached == ("y11-unseen",)
    assert coverage.share_seen == 0.5


def test_bookings_after_the_promise_date_do_not_count():
    promise = UniversalPromise(frozenset({11}), by=date(2025, 3, 15))
    coverage = promise_coverage(promise, STUDENTS.values(), APPOINTMENTS)
    assert coverage.booked == 0
    assert coverage.not_reached == ("y11-open", "y11-unseen")


def test_adviser_minutes_count_attended_and_missed_time_against_agreed():
    used = adviser_minutes(APPOINTMENTS, {"pa-a": 600, "pa-c": 300})
    interviews_that_took_place = 3  # two attended, one missed; pa-b saw the fourth
    assert used["pa-a"].used == 40 * interviews_that_took_place + 15
    assert used["pa-a"].agreed == 600
    assert (used["pa-b"].used, used["pa-b"].agreed) == (40, 0)
    assert used["pa-c"].used == 0


def test_no_show_rate_is_over_appointments_that_were_due():
    assert no_show_rate(APPOINTMENTS) == 1 / 5
    assert no_show_rate([appt("y11-open", CONFIRMED)]) is None


def test_waitlist_lengths_by_session_type():
    joined = london(2025, 3, 1)
    entries = [
        WaitlistEntry("a", SCHOOL_ID, SessionType.INTERVIEW, joined),
        WaitlistEntry("b", SCHOOL_ID, SessionType.INTERVIEW, joined),
        WaitlistEntry("c", SCHOOL_ID, SessionType.GROUP, joined),
    ]
    assert waitlist_lengths(entries) == {SessionType.INTERVIEW: 2, SessionType.GROUP: 1}
