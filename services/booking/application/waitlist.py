"""The waitlist: joining, offering a freed place, accepting, declining and expiry.

An offer is stored with `expires_at`; the expiry sweep (a scheduled job) works from those,
so a restart or a second replica changes nothing about who is offered what. While an offer
is open its place counts as busy for everyone but the student it was made to.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services.booking.application.ports import BookingUnit, OfferRecord
from services.booking.domain.appointments import Appointment
from services.booking.domain.availability import Slot
from services.booking.domain.errors import BookingError, UnknownStudent
from services.booking.domain.model import LONDON, DateRange, SessionType
from services.booking.domain.waitlist import Offer, WaitlistEntry, decline, expire, next_offer
from shared.events.booking import WaitlistOfferEnded, WaitlistOfferMade


class AlreadyWaiting(BookingError):
    code = "already_waiting"

    def __init__(self) -> None:
        super().__init__("You are already on the waitlist for this kind of session.")


class WaitlistInThePast(BookingError):
    code = "waitlist_in_the_past"

    def __init__(self) -> None:
        super().__init__("Those days have all passed. Choose days from today onwards.")


class UnknownOffer(BookingError):
    code = "unknown_offer"

    def __init__(self) -> None:
        super().__init__("That offer could not be found, or it has ended.")


@dataclass(frozen=True)
class JoinWaitlist:
    school_id: str
    student_id: str
    session_type: SessionType
    first_day: date | None = None
    last_day: date | None = None


@dataclass(frozen=True)
class DeclineOffer:
    offer_id: str
    student_id: str


async def join_waitlist(cmd: JoinWaitlist, uow: BookingUnit, now: datetime) -> str:
    """Put the student on the school's waitlist; answers the new entry's id."""
    async with uow:
        student = await uow.students.get(cmd.student_id)
        if student is None or student.school_id != cmd.school_id:
            raise UnknownStudent()
        waiting = await uow.waitlist.waiting_entry_id(
            cmd.student_id, cmd.school_id, cmd.session_type
        )
        if waiting is not None:
            raise AlreadyWaiting()
        entry_id = str(uuid.uuid4())
        dates = DateRange(cmd.first_day, cmd.last_day) if cmd.first_day and cmd.last_day else None
        if dates is not None and dates.last < now.astimezone(LONDON).date():
            raise WaitlistInThePast()
        await uow.waitlist.add_entry(
            entry_id, WaitlistEntry(cmd.student_id, cmd.school_id, cmd.session_type, now, dates)
        )
        await uow.commit()
    return entry_id


async def offer_freed_place(
    uow: BookingUnit, freed: Appointment, now: datetime, ttl: timedelta
) -> Offer | None:
    """A place came free: hold it for the next student in line (priority first)."""
    slot = Slot(
        interval=freed.interval,
        school_id=freed.school_id,
        session_type=freed.session_type,
        adviser_ids=(freed.adviser_id,),
        rooms=(freed.room,),
    )
    waiting = await uow.waitlist.waiting(freed.school_id, freed.session_type)
    offer = next_offer(list(waiting.values()), slot, now, ttl)
    if offer is not None:
        await _record_offer(uow, offer, _entry_of(waiting, offer.student_id))
    return offer


def _entry_of(waiting: dict[str, WaitlistEntry], student_id: str) -> str:
    return next(id_ for id_, entry in waiting.items() if entry.student_id == student_id)


async def _record_offer(uow: BookingUnit, offer: Offer, entry_id: str) -> None:
    offer_id = str(uuid.uuid4())
    slot = offer.slot
    await uow.waitlist.add_offer(offer_id, offer, entry_id)
    await uow.emit(
        WaitlistOfferMade(
            offer_id=offer_id,
            school_id=slot.school_id,
            student_id=offer.student_id,
            session_type=slot.session_type.value,
            starts_at=slot.start,
            ends_at=slot.end,
            location=slot.room,
            expires_at=offer.expires_at,
        ),
        key=offer.student_id,
    )


def offered(found: OfferRecord | None) -> OfferRecord:
    """The student's open offer, as looked up; refused when it is not theirs or has ended."""
    if found is None:
        raise UnknownOffer()
    return found


async def accept_offers_taken(uow: BookingUnit, booked: Appointment) -> None:
    """A student who books the place they were offered has accepted the offer.

    Runs inside the booking's own unit of work, so an offer is accepted exactly when its
    booking commits, and the student leaves the waitlist at the same moment.
    """
    for offer in await uow.waitlist.open_offers_of(booked.student_id, at=booked.interval.start):
        await uow.waitlist.end_offer(offer.id, "accepted")
        await uow.waitlist.entry_booked(offer.entry_id)
        await uow.emit(
            WaitlistOfferEnded(
                offer_id=offer.id,
                school_id=offer.school_id,
                student_id=offer.student_id,
                outcome="accepted",
            ),
            key=offer.student_id,
        )


async def decline_offer(cmd: DeclineOffer, uow: BookingUnit, now: datetime) -> None:
    async with uow:
        offer = offered(await uow.waitlist.open_offer(cmd.offer_id, cmd.student_id))
        await _end_and_pass_on(uow, offer, "declined", now)
        await uow.commit()


async def expire_due_offers(new_uow: Callable[[], BookingUnit], now: datetime) -> int:
    """Pass every lapsed offer on to the next student; the sweep job calls this."""
    expired = 0
    while True:
        async with new_uow() as uow:
            offer = await uow.waitlist.next_lapsed(now)
            if offer is None:
                return expired
            await _end_and_pass_on(uow, offer, "expired", now)
            await uow.commit()
            expired += 1


async def _end_and_pass_on(
    uow: BookingUnit, ended: OfferRecord, outcome: str, now: datetime
) -> None:
    await uow.waitlist.end_offer(ended.id, outcome)
    await uow.emit(
        WaitlistOfferEnded(
            offer_id=ended.id,
            school_id=ended.school_id,
            student_id=ended.student_id,
            outcome=outcome,
        ),
        key=ended.student_id,
    )
    waiting = await uow.waitlist.waiting(ended.school_id, ended.session_type)
    entries = list(waiting.values())
    slot = Slot(
        interval=ended.interval,
        school_id=ended.school_id,
        session_type=ended.session_type,
        adviser_ids=(ended.adviser_id,),
        rooms=(ended.location,),
    )
    offer = Offer(
        entry=next(
            (e for e in entries if e.student_id == ended.student_id),
            WaitlistEntry(ended.student_id, ended.school_id, slot.session_type, ended.offered_at),
        ),
        slot=slot,
        offered_at=ended.offered_at,
        expires_at=ended.expires_at,
        offered_to=ended.offered_to,
    )
    following = (
        expire(offer, entries, now) if outcome == "expired" else decline(offer, entries, now)
    )
    if following is not None:
        await _record_offer(uow, following, _entry_of(waiting, following.student_id))
