"""A school as the booking rules need it: its calendar and the people named for it."""

from __future__ import annotations

from dataclasses import dataclass

from services.booking.domain.calendar import SchoolCalendar


@dataclass(frozen=True)
class SchoolRecord:
    school_id: str
    name: str
    calendar: SchoolCalendar
    coordinator_id: str | None
    lead_adviser_id: str | None
