"""Waitlist entries and offers in and out of their tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import students, waitlist_entries, waitlist_offers
from services.booking.application.ports import OfferRecord
from services.booking.domain.model import DateRange, Interval, PriorityFlag, SessionType
from services.booking.domain.waitlist import Offer, WaitlistEntry

WAITING = "waiting"
OPEN = "open"


def _offer(row: Any) -> OfferRecord:
    return OfferRecord(
        id=row.id,
        entry_id=row.entry_id,
        school_id=row.school_id,
        student_id=row.student_id,
        adviser_id=row.adviser_id,
        session_type=SessionType(row.session_type),
        interval=Interval(row.starts_at, row.ends_at),
        location=row.location,
        offered_at=row.offered_at,
        expires_at=row.expires_at,
        offered_to=frozenset(row.offered_to),
        status=row.status,
    )


class WaitlistRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def waiting(self, school_id: str, session_type: SessionType) -> dict[str, WaitlistEntry]:
        """The students waiting for `session_type` at the school, by entry id.

        A student waits at most once per school and session type.
        """
        rows = await self._session.execute(
            sa.select(waitlist_entries, students.c.priority_flags)
            .join(students, students.c.id == waitlist_entries.c.student_id)
            .where(
                waitlist_entries.c.school_id == school_id,
                waitlist_entries.c.session_type == session_type.value,
                waitlist_entries.c.status == WAITING,
            )
        )
        return {
            row.id: WaitlistEntry(
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
        }

    async def waiting_at(self, school_id: str) -> list[WaitlistEntry]:
        """Who waits at the school, for any session type (without their dates or flags)."""
        rows = await self._session.execute(
            sa.select(waitlist_entries).where(
                waitlist_entries.c.school_id == school_id, waitlist_entries.c.status == WAITING
            )
        )
        return [
            WaitlistEntry(r.student_id, school_id, SessionType(r.session_type), r.joined_at)
            for r in rows
        ]

    async def waiting_entry_id(
        self, student_id: str, school_id: str, session_type: SessionType
    ) -> str | None:
        found: str | None = await self._session.scalar(
            sa.select(waitlist_entries.c.id).where(
                waitlist_entries.c.student_id == student_id,
                waitlist_entries.c.school_id == school_id,
                waitlist_entries.c.session_type == session_type.value,
                waitlist_entries.c.status == WAITING,
            )
        )
        return found

    async def add_entry(self, entry_id: str, entry: WaitlistEntry) -> None:
        await self._session.execute(
            waitlist_entries.insert().values(
                id=entry_id,
                school_id=entry.school_id,
                student_id=entry.student_id,
                session_type=entry.session_type.value,
                first_day=entry.dates.first if entry.dates else None,
                last_day=entry.dates.last if entry.dates else None,
                joined_at=entry.joined_at,
                status=WAITING,
            )
        )

    async def add_offer(self, offer_id: str, offer: Offer, entry_id: str) -> None:
        slot = offer.slot
        await self._session.execute(
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
                status=OPEN,
            )
        )

    async def open_offer(self, offer_id: str, student_id: str) -> OfferRecord | None:
        row = (
            await self._session.execute(
                sa.select(waitlist_offers).where(
                    waitlist_offers.c.id == offer_id,
                    waitlist_offers.c.student_id == student_id,
                    waitlist_offers.c.status == OPEN,
                )
            )
        ).first()
        return _offer(row) if row is not None else None

    async def open_offers_of(
        self, student_id: str, *, at: datetime | None = None
    ) -> list[OfferRecord]:
        """The student's open offers; with `at`, only those for a place starting then."""
        query = sa.select(waitlist_offers).where(
            waitlist_offers.c.student_id == student_id, waitlist_offers.c.status == OPEN
        )
        if at is not None:
            query = query.where(waitlist_offers.c.starts_at == at)
        return [_offer(row) for row in await self._session.execute(query)]

    async def next_lapsed(self, now: datetime) -> OfferRecord | None:
        """The open offer that lapsed first, locked against other sweeps (on PostgreSQL)."""
        query = (
            sa.select(waitlist_offers)
            .where(waitlist_offers.c.status == OPEN, waitlist_offers.c.expires_at <= now)
            .order_by(waitlist_offers.c.expires_at)
            .limit(1)
        )
        bind = self._session.bind
        if bind is not None and bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        row = (await self._session.execute(query)).first()
        return _offer(row) if row is not None else None

    async def end_offer(self, offer_id: str, outcome: str) -> None:
        await self._session.execute(
            waitlist_offers.update().where(waitlist_offers.c.id == offer_id).values(status=outcome)
        )

    async def entry_booked(self, entry_id: str) -> None:
        await self._session.execute(
            waitlist_entries.update()
            .where(waitlist_entries.c.id == entry_id)
            .values(status="booked")
        )
