"""The waitlist: who is offered a slot when one frees up.

Priority students are offered first, then everyone else in the order they joined. An offer is
held for `offer_ttl`; if it lapses or is declined the slot passes to the next student, and a
student is never offered the same slot twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.booking.domain.availability import Slot
from services.booking.domain.errors import InvalidTransition
from services.booking.domain.model import LONDON, DateRange, PriorityFlag, SessionType, as_utc


@dataclass(frozen=True)
class WaitlistEntry:
    """A student waiting for a session, optionally only on certain (local) dates."""

    student_id: str
    school_id: str
    session_type: SessionType
    joined_at: datetime
    dates: DateRange | None = None
    priority_flags: frozenset[PriorityFlag] = field(default_factory=frozenset)

    @property
    def is_priority(self) -> bool:
        return bool(self.priority_flags)

    def accepts(self, slot: Slot, slot_date: date) -> bool:
        return (
            slot.school_id == self.school_id
            and slot.session_type is self.session_type
            and (self.dates is None or slot_date in self.dates)
        )


@dataclass(frozen=True)
class Offer:
    """A freed slot held for one student until `expires_at`.

    `offered_to` lists every student this slot has been offered to, this one included.
    """

    entry: WaitlistEntry
    slot: Slot
    offered_at: datetime
    expires_at: datetime
    offered_to: frozenset[str]

    @property
    def student_id(self) -> str:
        return self.entry.student_id

    def is_live(self, now: datetime) -> bool:
        return as_utc(now) < self.expires_at


def next_offer(
    entries: Sequence[WaitlistEntry],
    freed_slot: Slot,
    now: datetime,
    offer_ttl: timedelta,
    already_offered: frozenset[str] = frozenset(),
    zone: ZoneInfo = LONDON,
) -> Offer | None:
    """Offer `freed_slot` to the first student in line who has not had it offered yet.

    A slot still reserved for priority students is offered only to priority students, and a
    slot that has already started is offered to nobody.
    """
    if freed_slot.start <= as_utc(now):
        return None
    slot_date = freed_slot.start.astimezone(zone).date()
    in_line = sorted(
        (
            entry
            for entry in entries
            if entry.student_id not in already_offered
            and entry.accepts(freed_slot, slot_date)
            and freed_slot.visible_to(entry.is_priority, now)
        ),
        key=lambda entry: (not entry.is_priority, entry.joined_at, entry.student_id),
    )
    if not in_line:
        return None
    chosen = in_line[0]
    return Offer(
        entry=chosen,
        slot=freed_slot,
        offered_at=as_utc(now),
        expires_at=as_utc(now) + offer_ttl,
        offered_to=already_offered | {chosen.student_id},
    )


def expire(
    offer: Offer, entries: Sequence[WaitlistEntry], now: datetime, zone: ZoneInfo = LONDON
) -> Offer | None:
    """Once an offer has lapsed, pass the slot to the next student in line (same hold time)."""
    if offer.is_live(now):
        raise InvalidTransition("expire", "still open")
    return _pass_on(offer, entries, now, zone)


def decline(
    offer: Offer, entries: Sequence[WaitlistEntry], now: datetime, zone: ZoneInfo = LONDON
) -> Offer | None:
    """The student said no: pass the slot on at once."""
    return _pass_on(offer, entries, now, zone)


def _pass_on(
    offer: Offer, entries: Sequence[WaitlistEntry], now: datetime, zone: ZoneInfo
) -> Offer | None:
    ttl = offer.expires_at - offer.offered_at
    return next_offer(entries, offer.slot, now, ttl, offer.offered_to, zone)
