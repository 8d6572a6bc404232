"""Placement weeks as people and files write them: ISO weeks such as "2027-W25".

The matching engine works with the Monday of each week; storage, CSV files and the API use
the ISO week, which is what schools and employers put in their calendars.
"""

from __future__ import annotations

import re
from datetime import date

_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
ISO_WEEK_PATTERN = r"^\d{4}-W\d{2}$"


class InvalidWeek(ValueError):
    pass


def monday_of(iso_week: str) -> date:
    found = _ISO_WEEK.match(iso_week)
    if found is None:
        raise InvalidWeek(f"{iso_week!r} is not an ISO week such as 2027-W25")
    try:
        return date.fromisocalendar(int(found.group(1)), int(found.group(2)), 1)
    except ValueError as exc:
        raise InvalidWeek(f"{iso_week} does not exist") from exc


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def normalise(iso_weeks: list[str]) -> list[str]:
    """Check every week and return them sorted without repeats."""
    for week in iso_weeks:
        monday_of(week)
    return sorted(set(iso_weeks))
