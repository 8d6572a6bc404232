"""The waitlist: joining, offering a freed place, accepting, declining and expiry.

An offer is a row with `expires_at`; the expiry sweep (a scheduled job) works from those rows,
so a restart or a second replica changes nothing about who is offered what. While an offer is
open its place counts as busy for everyone but the student it was made to.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import students, waitlist_entries, waitlist_offers
from services.booking.application.directory import student_school
from services.booking.domain.appointments import Appointment
from services.booking.domain.availability import Slot
from services.booking.domain.errors import BookingError, UnknownStudent
from services.booking.domain.model import DateRange, Interval, PriorityFlag, SessionType
from services.booking.domain.waitlist import Offer, WaitlistEntry, decline, expire, next_offer
from shared.events.booking import WaitlistOfferEnded, WaitlistOfferMade
from shared.uow import UnitOfWork


class AlreadyWaiting(BookingError):
    code = "already_waiting"

    def __init__(self) -> None:
        super().__init__("You are already on the waitlist for this kind of session.")


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


async def join_waitlist(uow: UnitOfWork, cmd: JoinWaitlist, now: datetime) -> str:
    """Put the student on the school's waitlist; answers the new entry's id."""
    s = uow.session
    if await student_school(s, cmd.student_id) != cmd.school_id:
        raise UnknownStudent()
    if await _waiting_entry_id(uow, cmd.student_id, cmd.school_id, cmd.session_type) is not None:
        raise AlreadyWaiting()
    entry_id = str(uuid.uuid4())
    await s.execute(
        waitlist_entries.insert().values(
            id=entry_id,
            school_id=cmd.school_id,
            student_id=cmd.student_id,
            session_type=cmd.session_type.value,
            first_day=cmd.first_day,
            last_day=cmd.last_day,
            joined_at=now,
            status="waiting",
        )
    )
    await uow.commit()
    return entry_id


async def _waiting_entry_id(
    uow: UnitOfWork, student_id: str, school_id: str, session_type: SessionType
) -> str | None:
    found: str | None = await uow.session.scalar(
        sa.select(waitlist_entries.c.id).where(
            waitlist_entries.c.student_id == student_id,
            waitlist_entries.c.school_id == school_id,
            waitlist_entries.c.session_type == session_type.value,
            waitlist_entries.c.status == "waiting",
        )
    )
    return found


async def _entries(
    uow: UnitOfWork, school_id: str, session_type: str
) -> tuple[list[WaitlistEntry], dict[str, str]]:
    """The students waiting for `session_type` at the school, and each one's entry id.

    A student waits at most once per school and session type, so the ids are by student.
    """
    rows = (
        await uow.session.execute(
            sa.select(waitlist_entries, students.c.priority_flags)
            .join(students, students.c.id == waitlist_entries.c.student_id)
            .where(
                waitlist_entries.c.school_id == school_id,
                waitlist_entries.c.session_type == session_type,
                waitlist_entries.c.status == "waiting",
            )
        )
    ).all()
    entries = [
        WaitlistEntry(
            student_id=row.student_id,
            school_id=row.school_id,
            session_type=SessionType(row.session_type),
            joined_at=row.joined_at,
            dates=DateRange(row.first_day, row.last_day)
            if row.first_day and row.last_day
            else None,
            priority_flags=frozenset(PriorityFlag(f) for f in row.priority_flags),
        )
        for row in rows
    ]
    return entries, {row.student_id: row.id for row in rows}


async def offer_freed_place(
    uow: UnitOfWork, freed: Appointment, now: datetime, ttl: timedelta
) -> Offer | None:
    """A place came free: hold it for the next student in line (priority first)."""
    slot = Slot(
        interval=freed.interval,
        school_id=freed.school_id,
        session_type=freed.session_type,
        adviser_ids=(freed.adviser_id,),
        rooms=(freed.room,),
    )
    entries, entry_ids = await _entries(uow, freed.school_id, freed.session_type.value)
    offer = next_offer(entries, slot, now, ttl)
    if offer is not None:
        await _record_offer(uow, offer, entry_ids[offer.student_id])
    return offer


async def _record_offer(uow: UnitOfWork, offer: Offer, entry_id: str) -> str:
    offer_id = str(uuid.uuid4())
    slot = offer.slot
    await uow.session.execute(
        waitlist_offers.insert().values(
            id=offer_id,
            entry_id=entry_id,
            school_id=slot.school_id,
            student_id=offer.student_id,
            adviser_id=slot.adviser_ids[0],
            session_type=slot.session_type.value,
            starts_at=slot.start,
            ends_at=slot.end,
            location=slot.room,
            offered_to=sorted(offer.offered_to),
            offered_at=offer.offered_at,
            expires_at=offer.expires_at,
            status="open",
        )
    )
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
    return offer_id


async def open_offer(db: AsyncSession, offer_id: str, student_id: str) -> Any:
    """The student's open offer `offer_id`; refused when it is not theirs or has ended."""
    row = (
        await db.execute(
            sa.select(waitlist_offers).where(
                waitlist_offers.c.id == offer_id,
                waitlist_offers.c.student_id == student_id,
                waitlist_offers.c.status == "open",
            )
        )
    ).first()
    if row is None:
        raise UnknownOffer()
    return row


async def accept_offers_taken(uow: UnitOfWork, booked: Appointment) -> None:
    """A student who books the place they were offered has accepted the offer.

    Runs inside the booking's own unit of work, so an offer is accepted exactly when its
    booking commits, and the student leaves the waitlist at the same moment.
    """
    taken = (
        await uow.session.execute(
            sa.select(waitlist_offers).where(
                waitlist_offers.c.student_id == booked.student_id,
                waitlist_offers.c.status == "open",
                waitlist_offers.c.starts_at == booked.interval.start,
            )
        )
    ).all()
    for offer in taken:
        await uow.session.execute(
            waitlist_offers.update()
            .where(waitlist_offers.c.id == offer.id)
            .values(status="accepted")
        )
        await uow.session.execute(
            waitlist_entries.update()
            .where(waitlist_entries.c.id == offer.entry_id)
            .values(status="booked")
        )
        await uow.emit(
            WaitlistOfferEnded(
                offer_id=offer.id,
                school_id=offer.school_id,
                student_id=offer.student_id,
                outcome="accepted",
            ),
            key=offer.student_id,
        )


async def decline_offer(uow: UnitOfWork, offer_id: str, student_id: str, now: datetime) -> None:
    row = await open_offer(uow.session, offer_id, student_id)
    await _end_and_pass_on(uow, row, "declined", now)
    await uow.commit()


async def expire_due_offers(new_uow: Callable[[], UnitOfWork], now: datetime) -> int:
    """Pass every lapsed offer on to the next student; the sweep job calls this."""
    expired = 0
    while True:
        async with new_uow() as uow:
            query = (
                sa.select(waitlist_offers)
                .where(waitlist_offers.c.status == "open", waitlist_offers.c.expires_at <= now)
                .order_by(waitlist_offers.c.expires_at)
                .limit(1)
            )
            bind = uow.session.bind
            if bind is not None and bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            row = (await uow.session.execute(query)).first()
            if row is None:
                return expired
            await _end_and_pass_on(uow, row, "expired", now)
            await uow.commit()
            expired += 1


async def _end_and_pass_on(uow: UnitOfWork, row: Any, outcome: str, now: datetime) -> None:
    await uow.session.execute(
        waitlist_offers.update().where(waitlist_offers.c.id == row.id).values(status=outcome)
    )
    await uow.emit(
        WaitlistOfferEnded(
            offer_id=row.id, school_id=row.school_id, student_id=row.student_id, outcome=outcome
        ),
        key=row.student_id,
    )
    entries, entry_ids = await _entries(uow, row.school_id, row.session_type)
    slot = Slot(
        interval=Interval(row.starts_at, row.ends_at),
        school_id=row.school_id,
        session_type=SessionType(row.session_type),
        adviser_ids=(row.adviser_id,),
        rooms=(row.location,),
    )
    offer = Offer(
        entry=next(
            (e for e in entries if e.student_id == row.student_id),
            WaitlistEntry(row.student_id, row.school_id, slot.session_type, row.offered_at),
        ),
        slot=slot,
        offered_at=row.offered_at,
        expires_at=row.expires_at,
        offered_to=frozenset(row.offered_to),
    )
    following = (
        expire(offer, entries, now) if outcome == "expired" else decline(offer, entries, now)
    )
    if following is not None:
        await _record_offer(uow, following, entry_ids[following.student_id])
