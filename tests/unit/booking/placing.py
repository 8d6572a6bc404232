"""A placement context for the example school, built as the loader would build it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.booking.domain.agreement import PartnershipAgreement
from services.booking.domain.appointments import Appointment
from services.booking.domain.availability import day_grid
from services.booking.domain.calendar import SchoolCalendar
from services.booking.domain.model import AdviserKind, Interval, SessionType, Student
from services.booking.domain.placement import PlacementContext, place_key
from tests.unit.booking.example_school import SCHOOL_ID


def context(
    agreement: PartnershipAgreement,
    calendar: SchoolCalendar,
    student: Student | None,
    start: datetime,
    *,
    session_type: SessionType = SessionType.INTERVIEW,
    booked: Sequence[Appointment] = (),
    **changes: Any,
) -> PlacementContext:
    """What holds the time comes from `booked` (confirmed appointments), as read around `start`."""
    day = calendar.local_date(start)
    busy: dict[str, list[Interval]] = defaultdict(list)
    seats: dict[tuple[str, Interval], int] = defaultdict(int)
    minutes: dict[str, int] = defaultdict(int)
    held: dict[str, set[int]] = defaultdict(set)
    config = agreement.session_types[session_type]
    for appointment in booked:
        busy[appointment.adviser_id].append(appointment.interval)
        minutes[appointment.adviser_id] += appointment.interval.minutes
        if agreement.session_types[appointment.session_type].is_shared:
            seats[(appointment.adviser_id, appointment.interval)] += 1
            held[place_key(appointment)].add(len(held[place_key(appointment)]) + 1)
    wanted = Interval(start, start + config.length)
    values: dict[str, Any] = {
        "calendar": calendar,
        "agreement": agreement,
        "student": student,
        "grid": day_grid(agreement, calendar, session_type, day),
        "busy": dict(busy),
        "seats": dict(seats),
        "booked_minutes": dict(minutes),
        "adviser_kinds": {a: (AdviserKind.GUIDANCE,) for a in agreement.adviser_ids},
        "agreed_minutes": {
            a: agreement.agreed_minutes(a, day, day, calendar) for a in agreement.adviser_ids
        },
        "meeting": [a for a in booked if a.interval.overlaps(wanted)],
        "seats_held": {key: frozenset(numbers) for key, numbers in held.items()},
    }
    values.update(changes)
    return PlacementContext(**values)


def student(
    student_id: str = "student-1", *, school_id: str = SCHOOL_ID, **changes: Any
) -> Student:
    return Student(student_id, school_id, 11, **changes)
