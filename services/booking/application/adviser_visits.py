"""A student's advisers and when each is next in their school, from the agreements in force.

Names come from the directory's adviser records; nothing else of the record (what kinds of
adviser they are, how to reach them) leaves this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.booking.application.agreements import academic_year_bounds
from services.booking.application.availability import agreements_between
from services.booking.application.ports import DirectoryRecords, Schools
from services.booking.domain.visits import LOOK_AHEAD, NextVisit, earlier, next_visits


class VisitReads(Protocol):
    @property
    def schools(self) -> Schools: ...
    @property
    def directory(self) -> DirectoryRecords: ...


@dataclass(frozen=True)
class AdviserVisit:
    """One adviser of the school by name, and their next visit (None: not in the next
    four weeks)."""

    adviser_id: str
    name: str
    visit: NextVisit | None
    zone: str


async def advisers_in_school(
    reads: VisitReads, school_id: str, now: datetime
) -> list[AdviserVisit]:
    """The school's advisers over the next four weeks, soonest in first, then by name."""
    school = await reads.schools.get(school_id)
    if school is None:
        return []
    calendar = school.calendar
    today = calendar.local_date(now)
    last = today + LOOK_AHEAD
    visits: dict[str, NextVisit | None] = {}
    for agreement in await agreements_between(reads.schools, school_id, today, last):
        first_day, last_day = academic_year_bounds(agreement.academic_year)
        since = max(now, calendar.whole_day(first_day).start)
        until = min(last, last_day)
        for adviser_id, visit in next_visits(agreement, calendar, since, until).items():
            visits[adviser_id] = earlier(visits.get(adviser_id), visit)
    records = await reads.directory.stored("advisers", visits)
    found = [
        AdviserVisit(
            adviser_id, str(records[adviser_id]["display_name"]), visit, str(calendar.zone)
        )
        for adviser_id, visit in visits.items()
        if adviser_id in records
    ]
    return sorted(found, key=_soonest)


def _soonest(entry: AdviserVisit) -> tuple[bool, str, str]:
    day = entry.visit.day.isoformat() if entry.visit else ""
    return entry.visit is None, day, entry.name
