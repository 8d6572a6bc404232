"""When each adviser is next in a school: the agreement's attendance windows read forward
from a moment, as a student asks it ("when is my adviser next in?").

The days are the windows the booking grid starts from, so a holiday or a blocked exam day
is never offered as a day the adviser is in, and today counts while its window lasts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services.booking.domain.agreement import AttendanceWindow, PartnershipAgreement
from services.booking.domain.calendar import SchoolCalendar

LOOK_AHEAD = timedelta(days=28)


@dataclass(frozen=True)
class NextVisit:
    """An adviser's next day in the school; `starts`/`ends` (UTC) only where the agreement
    sets the hours for that day, None when the adviser is in for the whole school day."""

    adviser_id: str
    day: date
    starts: datetime | None = None
    ends: datetime | None = None


def next_visit(
    agreement: PartnershipAgreement,
    adviser_id: str,
    calendar: SchoolCalendar,
    now: datetime,
    last: date,
) -> NextVisit | None:
    """The adviser's first attendance at the school ending after `now`, up to local `last`."""
    today = calendar.local_date(now)
    if last < today:
        return None
    ahead = [
        window
        for window in agreement.windows(adviser_id, today, last, calendar)
        if window.interval.end > now
    ]
    if not ahead:
        return None
    day = calendar.local_date(ahead[0].interval.start)
    if not _hours_agreed(agreement, adviser_id, day):
        return NextVisit(adviser_id, day)
    that_day = [w for w in ahead if calendar.local_date(w.interval.start) == day]
    return NextVisit(adviser_id, day, _first_start(that_day), _last_end(that_day))


def next_visits(
    agreement: PartnershipAgreement, calendar: SchoolCalendar, now: datetime, last: date
) -> dict[str, NextVisit | None]:
    """Every adviser the agreement names, with their next visit up to `last` (None if none)."""
    return {
        adviser_id: next_visit(agreement, adviser_id, calendar, now, last)
        for adviser_id in agreement.adviser_ids
    }


def earlier(a: NextVisit | None, b: NextVisit | None) -> NextVisit | None:
    """The sooner of two visits of one adviser (from two agreements, across a year's end)."""
    if a is None or b is None:
        return a or b
    return a if a.day <= b.day else b


def _hours_agreed(agreement: PartnershipAgreement, adviser_id: str, day: date) -> bool:
    return any(
        line.start is not None or line.end is not None
        for line in agreement.attendances
        if line.adviser_id == adviser_id and line.pattern.includes(day)
    )


def _first_start(windows: list[AttendanceWindow]) -> datetime:
    return min(w.interval.start for w in windows)


def _last_end(windows: list[AttendanceWindow]) -> datetime:
    return max(w.interval.end for w in windows)
