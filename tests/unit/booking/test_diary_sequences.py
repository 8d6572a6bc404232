"""No sequence of bookings, cancellations and moves leaves anyone in two places at once."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from itertools import combinations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from services.booking.domain.appointments import Appointment, Diary
from services.booking.domain.errors import BookingError
from services.booking.domain.model import (
    AppointmentStatus,
    Interval,
    Role,
    SessionType,
    SessionTypeConfig,
)
from tests.unit.booking.example_school import SCHOOL_ID, london

pytestmark = pytest.mark.unit

ADVISERS = ("pa-a", "pa-b")
STUDENTS = ("s1", "s2", "s3", "s4")
DAY_START = london(2025, 3, 3, 9)
NOW = london(2025, 3, 1, 9)
GROUP_CAPACITY = 3
CONFIGS = {
    SessionType.INTERVIEW: SessionTypeConfig(length_minutes=40),
    SessionType.DROPIN: SessionTypeConfig(length_minutes=15),
    SessionType.GROUP: SessionTypeConfig(length_minutes=60, capacity=GROUP_CAPACITY),
}

session_types = st.sampled_from(sorted(CONFIGS))
quarter_hours = st.integers(min_value=0, max_value=20)


def interval_for(session_type: SessionType, quarter: int) -> Interval:
    """Group sessions start on the hour so that separate bookings can share one session."""
    step = 60 if session_type is SessionType.GROUP else 15
    start = DAY_START + timedelta(minutes=(quarter % 6 if step == 60 else quarter) * step)
    return Interval(start, start + CONFIGS[session_type].length)


class DiaryMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.diary = Diary(session_types=CONFIGS)
        self.active: dict[str, Appointment] = {}
        self.counter = 0

    @rule(
        adviser=st.sampled_from(ADVISERS),
        student=st.sampled_from(STUDENTS),
        session_type=session_types,
        quarter=quarter_hours,
    )
    def book(self, adviser: str, student: str, session_type: SessionType, quarter: int) -> None:
        self.counter += 1
        wanted = Appointment(
            id=f"appt-{self.counter}",
            school_id=SCHOOL_ID,
            student_id=student,
            adviser_id=adviser,
            session_type=session_type,
            interval=interval_for(session_type, quarter),
            room="Careers room",
            booked_by=Role.STUDENT,
        )
        with contextlib.suppress(BookingError):
            self.active[wanted.id] = self.diary.book(wanted)

    @rule(pick=st.integers(min_value=0), by=st.sampled_from([Role.STUDENT, Role.COORDINATOR]))
    def cancel(self, pick: int, by: Role) -> None:
        if not self.active:
            return
        chosen = sorted(self.active)[pick % len(self.active)]
        try:
            cancelled = self.diary.cancel(chosen, by, "clash with a trip", NOW)
        except BookingError:
            return
        assert cancelled.status is AppointmentStatus.CANCELLED
        del self.active[chosen]

    @rule(pick=st.integers(min_value=0), adviser=st.sampled_from(ADVISERS), quarter=quarter_hours)
    def reschedule(self, pick: int, adviser: str, quarter: int) -> None:
        if not self.active:
            return
        chosen = self.active[sorted(self.active)[pick % len(self.active)]]
        target = interval_for(chosen.session_type, quarter)
        try:
            moved = self.diary.reschedule(chosen.id, target, adviser, NOW, by_role=Role.COORDINATOR)
        except BookingError:
            assert self.diary.get(chosen.id) == chosen
            return
        assert (moved.id, moved.revision) == (chosen.id, chosen.revision + 1)
        self.active[chosen.id] = moved

    @invariant()
    def diary_matches_what_was_accepted(self) -> None:
        assert {a.id: a for a in self.diary.active()} == self.active

    @invariant()
    def no_student_is_in_two_places_at_once(self) -> None:
        for first, second in combinations(self.active.values(), 2):
            if first.student_id == second.student_id:
                assert not first.interval.overlaps(second.interval)

    @invariant()
    def advisers_overlap_only_as_places_in_one_group_session(self) -> None:
        for first, second in combinations(self.active.values(), 2):
            if first.adviser_id == second.adviser_id and first.interval.overlaps(second.interval):
                assert first.session_type is second.session_type is SessionType.GROUP
                assert first.interval == second.interval
        seats: dict[tuple[str, Interval], int] = {}
        for a in self.active.values():
            seats[(a.adviser_id, a.interval)] = seats.get((a.adviser_id, a.interval), 0) + 1
        assert all(count <= GROUP_CAPACITY for count in seats.values())


DiaryMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],  # a busy CI machine is not a failure
)
test_diary_never_double_books = DiaryMachine.TestCase
