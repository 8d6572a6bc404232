"""A school's calendar: which days are school days and when the school day runs.

School rules are stated in local time ("08:30 to 15:30", "mocks on the morning of 3 March"),
so they are evaluated in the school's zone and only then turned into UTC intervals. Doing it the
other way round puts every booking after a clock change an hour out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.booking.domain.model import LONDON, DateRange, Interval


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock time `at` on `day` in `zone`."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def local_interval(day: date, start: time, end: time, zone: ZoneInfo) -> Interval | None:
    """Wall-clock `start`-`end` on `day` as a UTC interval, or None when it is empty."""
    begin, finish = local_instant(day, start, zone), local_instant(day, end, zone)
    return Interval(begin, finish) if begin < finish else None


def days(first: date, last: date) -> Iterator[date]:
    """Every date from `first` to `last`, both included."""
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


@dataclass(frozen=True)
class LocalPeriod:
    """A blocked stretch given in the school's wall-clock time, e.g. a mock exam morning."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("a local period is wall-clock time; give naive datetimes")
        if self.end <= self.start:
            raise ValueError("a local period must end after it starts")


@dataclass(frozen=True)
class SchoolCalendar:
    """Terms, holidays and blocked periods of one school, and the hours of its school day.

    Holidays take days out of the school year. Blocked days (exam and mock periods, block
    days) and blocked local periods are still school days, but no guidance happens in them.
    """

    school_id: str
    terms: tuple[DateRange, ...]
    holidays: tuple[DateRange, ...] = ()
    blocked_days: tuple[DateRange, ...] = ()
    blocked_periods: tuple[LocalPeriod, ...] = ()
    day_start: time = time(8, 30)
    day_end: time = time(15, 30)
    zone: ZoneInfo = field(default=LONDON)

    def is_school_day(self, day: date) -> bool:
        """A weekday inside a term and outside every holiday."""
        return (
            day.weekday() < 5
            and any(day in term for term in self.terms)
            and not any(day in holiday for holiday in self.holidays)
        )

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def blocked_intervals(self, first: date, last: date) -> list[Interval]:
        """Blocked days and periods touching the local dates `first`..`last`, in UTC."""
        blocked = [
            self.whole_day(day)
            for day in days(first, last)
            if any(day in period for period in self.blocked_days)
        ]
        for period in self.blocked_periods:
            if period.start.date() <= last and period.end.date() >= first:
                blocked.append(
                    Interval(
                        period.start.replace(tzinfo=self.zone),
                        period.end.replace(tzinfo=self.zone),
                    )
                )
        return sorted(blocked)

    def whole_day(self, day: date) -> Interval:
        """Local midnight to midnight: 23 or 25 hours long on the days the clocks change."""
        start = local_instant(day, time(0), self.zone)
        return Interval(start, local_instant(day + timedelta(days=1), time(0), self.zone))
