"""The annual Partnership Agreement: which advisers a school gets, when, where and for what.

It is the source of truth for "never outside the PA's hours at that school": every bookable
minute starts life as an attendance window computed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from services.booking.domain.calendar import SchoolCalendar, days, local_interval
from services.booking.domain.errors import SessionTypeNotOffered
from services.booking.domain.model import (
    DEFAULT_SESSION_TYPES,
    Interval,
    SessionType,
    SessionTypeConfig,
    merge,
    total_minutes,
)


@dataclass(frozen=True)
class Weekly:
    """Every week on the given weekdays (0 is Monday)."""

    weekdays: frozenset[int]

    def includes(self, day: date) -> bool:
        return day.weekday() in self.weekdays


@dataclass(frozen=True)
class AlternateWeeks:
    """Every other week on the given weekdays, counting from the week that holds `anchor`.

    Weeks are counted Monday to Monday, so holidays do not shift the rhythm; that matches
    how agreements are written ("alternate Thursdays from 4 September").
    """

    anchor: date
    weekdays: frozenset[int]

    def includes(self, day: date) -> bool:
        weeks = (_monday(day) - _monday(self.anchor)).days // 7
        return day.weekday() in self.weekdays and weeks % 2 == 0


@dataclass(frozen=True)
class ExplicitDates:
    """Named dates only, e.g. a run of options evenings or a term-by-term allocation."""

    dates: frozenset[date]

    def includes(self, day: date) -> bool:
        return day in self.dates


AttendancePattern = Weekly | AlternateWeeks | ExplicitDates


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class AdviserAttendance:
    """One line of the agreement: an adviser, a pattern of days, the hours and the room.

    `start`/`end` of None mean the whole school day. Hours are clipped to the school day,
    except for an `after_hours` attendance such as an options evening.
    """

    adviser_id: str
    pattern: AttendancePattern
    session_types: frozenset[SessionType] = frozenset({SessionType.INTERVIEW})
    start: time | None = None
    end: time | None = None
    room: str | None = None
    after_hours: bool = False


@dataclass(frozen=True)
class AttendanceWindow:
    """An adviser's presence at the school on one day, with the room and what it offers."""

    adviser_id: str
    interval: Interval
    room: str
    session_types: frozenset[SessionType]


@dataclass(frozen=True)
class UniversalPromise:
    """A school's promise that every student in `year_groups` has a session by `by`."""

    year_groups: frozenset[int]
    by: date
    session_type: SessionType = SessionType.INTERVIEW


@dataclass(frozen=True)
class PartnershipAgreement:
    """One school's agreement with the provider for one academic year (e.g. "2025/26").

    `priority_share` of the bookable slots is held back for priority students until
    `priority_release` before they start; see `availability` for which slots.
    """

    school_id: str
    academic_year: str
    confidential_room: str
    attendances: tuple[AdviserAttendance, ...]
    session_types: Mapping[SessionType, SessionTypeConfig] = field(
        default_factory=lambda: dict(DEFAULT_SESSION_TYPES)
    )
    minimum_notice: timedelta = timedelta(hours=24)
    horizon: timedelta = timedelta(days=28)
    priority_share: float = 0.3
    priority_release: timedelta = timedelta(hours=48)
    promises: tuple[UniversalPromise, ...] = ()
    adviser_requests_allowed: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.priority_share <= 1:
            raise ValueError("the priority share is a fraction between 0 and 1")

    @property
    def adviser_ids(self) -> tuple[str, ...]:
        return tuple(sorted({line.adviser_id for line in self.attendances}))

    def config(self, session_type: SessionType) -> SessionTypeConfig:
        """The length, capacity and buffer this school uses for `session_type`."""
        try:
            return self.session_types[session_type]
        except KeyError:
            raise SessionTypeNotOffered(self.school_id, session_type) from None

    def windows(
        self, adviser_id: str, first: date, last: date, calendar: SchoolCalendar
    ) -> list[AttendanceWindow]:
        """Each attendance of the adviser on school days `first`..`last`, blocked time removed."""
        found: list[AttendanceWindow] = []
        blocked = calendar.blocked_intervals(first, last)
        for line in self.attendances:
            if line.adviser_id != adviser_id:
                continue
            for day in days(first, last):
                interval = self._hours(line, day, calendar)
                for piece in interval.minus(blocked) if interval else ():
                    room = line.room or self.confidential_room
                    found.append(AttendanceWindow(adviser_id, piece, room, line.session_types))
        return sorted(found, key=lambda window: window.interval)

    def attendance_windows(
        self, adviser_id: str, first: date, last: date, calendar: SchoolCalendar
    ) -> list[Interval]:
        """When the adviser is at this school on days `first`..`last`, merged, in UTC."""
        return merge(window.interval for window in self.windows(adviser_id, first, last, calendar))

    def agreed_minutes(
        self, adviser_id: str, first: date, last: date, calendar: SchoolCalendar
    ) -> int:
        """Minutes the adviser is agreed to give this school in the period: the load baseline.

        The calendar is needed because holidays and exam periods are not agreed time.
        """
        return total_minutes(self.attendance_windows(adviser_id, first, last, calendar))

    @staticmethod
    def _hours(line: AdviserAttendance, day: date, calendar: SchoolCalendar) -> Interval | None:
        if not (line.pattern.includes(day) and calendar.is_school_day(day)):
            return None
        start = calendar.day_start if line.start is None else line.start
        end = calendar.day_end if line.end is None else line.end
        if not line.after_hours:
            start, end = max(start, calendar.day_start), min(end, calendar.day_end)
        return local_interval(day, start, end, calendar.zone)
