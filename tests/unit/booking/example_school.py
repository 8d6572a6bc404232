"""A small example school used across the booking unit tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any

from services.booking.domain.agreement import AdviserAttendance, PartnershipAgreement, Weekly
from services.booking.domain.calendar import SchoolCalendar
from services.booking.domain.model import LONDON, DateRange, SessionType

SCHOOL_ID = "6f1c1d3e-0000-4000-8000-000000000001"
CONFIDENTIAL_ROOM = "Careers interview room"
MONDAY, FRIDAY = 0, 4


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time at the school, as the UTC instant it denotes."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def wall_clock(instant: datetime) -> tuple[date, time]:
    local = instant.astimezone(LONDON)
    return local.date(), local.time()


def school_calendar(**changes: Any) -> SchoolCalendar:
    """Open for two academic years with no holidays unless a test adds some."""
    calendar = SchoolCalendar(
        school_id=SCHOOL_ID, terms=(DateRange(date(2024, 9, 2), date(2026, 12, 18)),)
    )
    return replace(calendar, **changes)


def attendance(
    adviser_id: str,
    weekdays: frozenset[int] = frozenset({MONDAY, FRIDAY}),
    start: time | None = time(9),
    end: time | None = time(12),
    **changes: Any,
) -> AdviserAttendance:
    """Interviews from 09:00 to 12:00 on Mondays and Fridays unless told otherwise."""
    line = AdviserAttendance(
        adviser_id=adviser_id,
        pattern=Weekly(weekdays),
        session_types=frozenset({SessionType.INTERVIEW}),
        start=start,
        end=end,
    )
    return replace(line, **changes)


def agreement(*lines: AdviserAttendance, **changes: Any) -> PartnershipAgreement:
    base = PartnershipAgreement(
        school_id=SCHOOL_ID,
        academic_year="2024/25",
        confidential_room=CONFIDENTIAL_ROOM,
        attendances=lines,
        priority_share=0.0,
    )
    return replace(base, **changes)
