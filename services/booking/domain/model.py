"""Core vocabulary of booking: kinds of adviser and session, priority flags, time intervals.

Everything here is immutable and compares instants in UTC, so that code elsewhere never has to
wonder which clock a datetime was read from. Local (Europe/London) time only appears where a
school rule is stated in it, in `calendar` and `agreement`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


class AdviserKind(StrEnum):
    """The specialism of a Personal Adviser; a referral may call for one."""

    GUIDANCE = "guidance"
    INTENSIVE_SUPPORT = "intensive_support"
    PRE_VOCATIONAL = "pre_vocational"
    LOOKED_AFTER_CHILDREN = "looked_after_children"
    SEN = "sen"


class SessionType(StrEnum):
    INTERVIEW = "interview"
    DROPIN = "dropin"
    GROUP = "group"
    WEX_DEBRIEF = "wex_debrief"
    OPTIONS_EVENING = "options_evening"


class PriorityFlag(StrEnum):
    """Why a student is targeted for guidance ahead of others."""

    NEET_RISK = "neet_risk"
    SEN = "sen"
    LOOKED_AFTER = "looked_after"
    DISENGAGED = "disengaged"
    LOW_ATTAINMENT = "low_attainment"
    EAL = "eal"


class AppointmentStatus(StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class Role(StrEnum):
    """Who acted. The values match the roles of the authentication layer."""

    STUDENT = "student"
    ADVISER = "adviser"
    COORDINATOR = "coordinator"
    EBP = "ebp"
    ADMIN = "admin"

    @property
    def is_staff(self) -> bool:
        return self is not Role.STUDENT


# No session lasts longer; reads of "what overlaps this time" rely on it to bound their scan.
LONGEST_SESSION_MINUTES = 240


@dataclass(frozen=True)
class SessionTypeConfig:
    """How long a session lasts, how many students it seats, and the gap kept around it.

    A capacity above one makes the session shared: several students book the same adviser
    at the same time (a group session).
    """

    length_minutes: int
    capacity: int = 1
    buffer_minutes: int = 0

    def __post_init__(self) -> None:
        if self.length_minutes <= 0 or self.capacity < 1 or self.buffer_minutes < 0:
            raise ValueError("session length and capacity must be positive, buffer not negative")
        if self.length_minutes > LONGEST_SESSION_MINUTES:
            raise ValueError(f"a session lasts at most {LONGEST_SESSION_MINUTES} minutes")

    @property
    def length(self) -> timedelta:
        return timedelta(minutes=self.length_minutes)

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)

    @property
    def is_shared(self) -> bool:
        return self.capacity > 1


DEFAULT_SESSION_TYPES: Mapping[SessionType, SessionTypeConfig] = MappingProxyType(
    {
        SessionType.INTERVIEW: SessionTypeConfig(length_minutes=40),
        SessionType.DROPIN: SessionTypeConfig(length_minutes=15),
        SessionType.GROUP: SessionTypeConfig(length_minutes=60, capacity=20),
        SessionType.WEX_DEBRIEF: SessionTypeConfig(length_minutes=30),
        SessionType.OPTIONS_EVENING: SessionTypeConfig(length_minutes=20),
    }
)


@dataclass(frozen=True)
class DateRange:
    """Whole local days from `first` to `last`, both included (a holiday, an exam fortnight)."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("a date range cannot end before it starts")

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


@dataclass(frozen=True)
class Student:
    """What booking knows of a student: enough to rank and report, nothing more."""

    student_id: str
    school_id: str
    year_group: int
    priority_flags: frozenset[PriorityFlag] = field(default_factory=frozenset)

    @property
    def is_priority(self) -> bool:
        return bool(self.priority_flags)


def as_utc(instant: datetime) -> datetime:
    """Refuse naive datetimes: a floating time is how bookings end up an hour out."""
    if instant.tzinfo is UTC:
        return instant  # the common case, and this runs for every interval built
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("datetimes in booking must be timezone-aware")
    return instant.astimezone(UTC)


@dataclass(frozen=True, order=True)
class Interval:
    """A half-open span of time [start, end), held in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", as_utc(self.start))
        object.__setattr__(self, "end", as_utc(self.end))
        if self.end <= self.start:
            raise ValueError("an interval must end after it starts")

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def minutes(self) -> int:
        return int(self.duration.total_seconds() // 60)

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end

    def intersection(self, other: Interval) -> Interval | None:
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Interval(start, end) if start < end else None

    def padded(self, margin: timedelta) -> Interval:
        """The interval widened by `margin` on both sides, used to keep a buffer around it."""
        return Interval(self.start - margin, self.end + margin)

    def minus(self, others: Iterable[Interval]) -> list[Interval]:
        """What is left of this interval once every one of `others` is taken out."""
        remaining = [self]
        for cut in sorted(others):
            remaining = [piece for part in remaining for piece in part._without(cut)]
        return remaining

    def _without(self, cut: Interval) -> list[Interval]:
        if not self.overlaps(cut):
            return [self]
        pieces = []
        if self.start < cut.start:
            pieces.append(Interval(self.start, cut.start))
        if cut.end < self.end:
            pieces.append(Interval(cut.end, self.end))
        return pieces


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """The union of `intervals` as sorted, non-overlapping, non-touching intervals."""
    merged: list[Interval] = []
    for interval in sorted(intervals):
        if merged and interval.start <= merged[-1].end:
            last = merged.pop()
            merged.append(Interval(last.start, max(last.end, interval.end)))
        else:
            merged.append(interval)
    return merged


def total_minutes(intervals: Sequence[Interval]) -> int:
    """Minutes covered by `intervals`, counting overlapping time once."""
    return sum(interval.minutes for interval in merge(intervals))
