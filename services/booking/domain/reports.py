"""Figures for providers and schools, computed from appointments without touching storage.

Interviews count when the student attended: a provider reports guidance delivered, not booked.
An adviser's minutes count as used when the appointment took place or the student failed to
come, because either way the adviser's time was spent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from services.booking.domain.agreement import UniversalPromise
from services.booking.domain.appointments import Appointment
from services.booking.domain.model import (
    LONDON,
    AppointmentStatus,
    PriorityFlag,
    SessionType,
    Student,
)
from services.booking.domain.waitlist import WaitlistEntry

_TOOK_PLACE = frozenset({AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW})


@dataclass(frozen=True)
class PromiseCoverage:
    """How far a school has got with a universal promise, and who is still to be reached."""

    promised: int
    seen: int
    booked: int
    not_reached: tuple[str, ...]

    @property
    def share_seen(self) -> float:
        return self.seen / self.promised if self.promised else 1.0


@dataclass(frozen=True)
class MinutesUsed:
    used: int
    agreed: int


def interviews_by_year_group(
    appointments: Iterable[Appointment], students: Mapping[str, Student]
) -> dict[int, int]:
    counts = Counter(
        students[a.student_id].year_group for a in _attended_interviews(appointments, students)
    )
    return dict(sorted(counts.items()))


def interviews_by_priority_group(
    appointments: Iterable[Appointment], students: Mapping[str, Student]
) -> dict[PriorityFlag | None, int]:
    """Counts per priority flag; a student with several flags counts under each, None is 'open'."""
    counts: Counter[PriorityFlag | None] = Counter()
    for appointment in _attended_interviews(appointments, students):
        flags = students[appointment.student_id].priority_flags
        counts.update(flags or {None})
    return dict(counts)


def promise_coverage(
    promise: UniversalPromise,
    students: Iterable[Student],
    appointments: Iterable[Appointment],
) -> PromiseCoverage:
    """Students in the promised year groups seen, booked (to come by the date), or neither."""
    cohort = sorted(s.student_id for s in students if s.year_group in promise.year_groups)
    relevant = [
        a for a in appointments if a.session_type is promise.session_type and _before(a, promise)
    ]
    seen = {a.student_id for a in relevant if a.status is AppointmentStatus.ATTENDED}
    booked = {a.student_id for a in relevant if a.is_active} - seen
    return PromiseCoverage(
        promised=len(cohort),
        seen=len(seen & set(cohort)),
        booked=len(booked & set(cohort)),
        not_reached=tuple(s for s in cohort if s not in seen and s not in booked),
    )


def adviser_minutes(
    appointments: Iterable[Appointment], agreed: Mapping[str, int]
) -> dict[str, MinutesUsed]:
    """Minutes each adviser spent against the minutes agreed (see `agreed_minutes`)."""
    used: Counter[str] = Counter()
    for appointment in appointments:
        if appointment.status in _TOOK_PLACE:
            used[appointment.adviser_id] += appointment.interval.minutes
    advisers = sorted(set(agreed) | set(used))
    return {a: MinutesUsed(used=used[a], agreed=agreed.get(a, 0)) for a in advisers}


def no_show_rate(appointments: Iterable[Appointment]) -> float | None:
    """No-shows over appointments that were due to happen; None when none were."""
    outcomes = [a.status for a in appointments if a.status in _TOOK_PLACE]
    if not outcomes:
        return None
    return outcomes.count(AppointmentStatus.NO_SHOW) / len(outcomes)


def waitlist_lengths(entries: Sequence[WaitlistEntry]) -> dict[SessionType, int]:
    return dict(Counter(entry.session_type for entry in entries))


def _attended_interviews(
    appointments: Iterable[Appointment], students: Mapping[str, Student]
) -> list[Appointment]:
    return [
        a
        for a in appointments
        if a.session_type is SessionType.INTERVIEW
        and a.status is AppointmentStatus.ATTENDED
        and a.student_id in students
    ]


def _before(appointment: Appointment, promise: UniversalPromise) -> bool:
    return appointment.interval.start.astimezone(LONDON).date() <= promise.by
