"""The rules of a PA's calendar feed, and of the busy time imported from their own calendar.

A feed entry carries the minimum a PA needs in their calendar app: what kind of session,
the student's initials and year (or how many are booked), where, and when. Never the PA's
specialism, a priority flag or a referral reason. Its UID is the appointment's (or the
session's) id, so it survives a reschedule; its SEQUENCE only ever rises.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.booking.domain.model import Interval, SessionType

FEED_PAST = timedelta(days=30)
FEED_AHEAD = timedelta(days=180)
CANCELLED_KEPT = timedelta(days=30)
# Imported busy time is kept over the longest booking horizon an agreement can set.
IMPORT_AHEAD = timedelta(days=400)

_TITLES = {
    SessionType.INTERVIEW: "Careers interview",
    SessionType.DROPIN: "Careers drop-in",
    SessionType.GROUP: "Careers group session",
    SessionType.WEX_DEBRIEF: "Work experience debrief",
    SessionType.OPTIONS_EVENING: "Options evening",
}


class EntryStatus(StrEnum):
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class FeedEntry:
    """One VEVENT: `uid` is stable across reschedules, `sequence` rises with every change."""

    uid: str
    summary: str
    location: str
    interval: Interval
    status: EntryStatus
    sequence: int
    last_modified: datetime
    page_path: str


def feed_window(now: datetime) -> Interval:
    """What a feed shows: from 30 days ago to 180 days ahead."""
    return Interval(now - FEED_PAST, now + FEED_AHEAD)


def still_shown(cancelled_at: datetime, now: datetime) -> bool:
    """A cancelled appointment stays in the feed, as cancelled, for 30 days."""
    return now - cancelled_at < CANCELLED_KEPT


def initials(name: str | None) -> str:
    """First and last initials ('Amy Jo Smith' -> 'A.S.'); without a name, 'student'."""
    parts = (name or "").split()
    if not parts:
        return "student"
    return "".join(f"{part[0].upper()}." for part in parts[:1] + parts[1:][-1:])


def one_to_one_summary(session_type: SessionType, name: str | None, year_group: int) -> str:
    return f"{_TITLES[session_type]} - {initials(name)} (Y{year_group})"


def shared_summary(session_type: SessionType, booked: int) -> str:
    """A group or drop-in session is one block with the number booked, no names."""
    return f"{_TITLES[session_type]} - {booked} booked"


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Overlapping or touching intervals joined, earliest first."""
    merged: list[Interval] = []
    for interval in sorted(intervals, key=lambda i: (i.start, i.end)):
        if merged and interval.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Interval(last.start, max(last.end, interval.end))
        else:
            merged.append(interval)
    return merged


def clipped(intervals: Iterable[Interval], window: Interval) -> list[Interval]:
    """The parts of `intervals` inside `window`, merged."""
    return merge(part for i in intervals if (part := i.intersection(window)) is not None)


@dataclass(frozen=True)
class BookedTime:
    """An appointment of the PA's, as the feed needs it (no reason, no flags)."""

    id: str
    session_type: SessionType
    interval: Interval
    cancelled: bool
    revision: int
    updated_at: datetime
    place_key: str
    capacity: int
    student_name: str | None
    year_group: int
    school_name: str
    room: str


@dataclass(frozen=True)
class DropInBlock:
    id: str
    interval: Interval
    school_name: str
    room: str
    booked: int
    last_joined_at: datetime | None


def feed_entries(
    booked: Iterable[BookedTime], dropins: Iterable[DropInBlock], now: datetime
) -> list[FeedEntry]:
    """The feed's events: one per one-to-one appointment, one per shared session (its UID
    the session's place, its SEQUENCE the sum of its places' revisions, so it rises as
    students join or leave), one per drop-in session. A cancelled appointment shows as
    CANCELLED for 30 days after its cancellation, then leaves the feed."""
    entries: list[FeedEntry] = []
    shared: dict[str, list[BookedTime]] = {}
    for item in booked:
        if item.capacity > 1:
            shared.setdefault(item.place_key, []).append(item)
        elif not item.cancelled or still_shown(item.updated_at, now):
            entries.append(_one_to_one(item))
    for place_key, places in shared.items():
        entry = _shared(place_key, places, now)
        if entry is not None:
            entries.append(entry)
    for block in dropins:
        entries.append(_dropin(block))
    return sorted(entries, key=lambda e: (e.interval.start, e.uid))


def _where(school_name: str, room: str) -> str:
    return f"{room}, {school_name}" if room else school_name


def _one_to_one(item: BookedTime) -> FeedEntry:
    return FeedEntry(
        uid=item.id,
        summary=one_to_one_summary(item.session_type, item.student_name, item.year_group),
        location=_where(item.school_name, item.room),
        interval=item.interval,
        status=EntryStatus.CANCELLED if item.cancelled else EntryStatus.CONFIRMED,
        sequence=item.revision - 1,
        last_modified=item.updated_at,
        page_path=f"/api/v1/appointments/{item.id}",
    )


def _shared(place_key: str, places: list[BookedTime], now: datetime) -> FeedEntry | None:
    active = [p for p in places if not p.cancelled]
    changed = max(p.updated_at for p in places)
    if not active and not still_shown(changed, now):
        return None
    first = min(places, key=lambda p: p.id)
    return FeedEntry(
        uid=f"session-{place_key}",
        summary=shared_summary(first.session_type, len(active)),
        location=_where(first.school_name, first.room),
        interval=first.interval,
        status=EntryStatus.CONFIRMED if active else EntryStatus.CANCELLED,
        sequence=sum(p.revision for p in places) - 1,
        last_modified=changed,
        page_path=f"/api/v1/appointments/{first.id}",
    )


def _dropin(block: DropInBlock) -> FeedEntry:
    # A session nobody has joined yet was last changed, as far as the feed knows, when it
    # first came into the feed's window.
    changed = block.last_joined_at or block.interval.start - FEED_AHEAD
    return FeedEntry(
        uid=f"dropin-{block.id}",
        summary=shared_summary(SessionType.DROPIN, block.booked),
        location=_where(block.school_name, block.room),
        interval=block.interval,
        status=EntryStatus.CONFIRMED,
        sequence=block.booked,
        last_modified=changed,
        page_path=f"/api/v1/dropins/{block.id}/queue",
    )
