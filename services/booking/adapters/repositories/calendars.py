"""Feed tokens, what a feed shows, and PAs' calendar imports in and out of their tables."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import (
    adviser_busy,
    appointments,
    calendar_clashes,
    calendar_feeds,
    calendar_imports,
    dropin_queue,
    dropin_sessions,
    schools,
    students,
)
from services.booking.adapters.repositories.appointments import appointment_from_row
from services.booking.application.calendars import CalendarImport, FeedRecord
from services.booking.domain.appointments import Appointment
from services.booking.domain.calendars import BookedTime, DropInBlock
from services.booking.domain.model import Interval, SessionType

CALENDAR_SOURCE = "calendar"


class FeedRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def of_adviser(self, adviser_id: str) -> FeedRecord | None:
        row = (
            await self._session.execute(
                sa.select(calendar_feeds).where(calendar_feeds.c.adviser_id == adviser_id)
            )
        ).first()
        return FeedRecord(**row._mapping) if row is not None else None

    async def replace(self, adviser_id: str, nonce: str, token_hash: str, now: datetime) -> None:
        """A new token for the PA; the old one, if any, is gone in the same statement pair."""
        await self.delete(adviser_id)
        await self._session.execute(
            calendar_feeds.insert().values(
                adviser_id=adviser_id, nonce=nonce, token_hash=token_hash, created_at=now
            )
        )

    async def delete(self, adviser_id: str) -> None:
        await self._session.execute(
            calendar_feeds.delete().where(calendar_feeds.c.adviser_id == adviser_id)
        )

    async def fetched(self, token_hash: str, now: datetime) -> FeedRecord | None:
        """Count a fetch of the feed with this token hash, and return it (None if none).

        On PostgreSQL the transaction commits without waiting for its WAL flush: a fetch
        count lost in a crash is harmless, and the wait would be most of a 304's time.
        """
        bind = self._session.bind
        if bind is not None and bind.dialect.name == "postgresql":
            await self._session.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
        row = (
            await self._session.execute(
                calendar_feeds.update()
                .where(calendar_feeds.c.token_hash == token_hash)
                .values(last_fetched_at=now, fetches=calendar_feeds.c.fetches + 1)
                .returning(*calendar_feeds.c)
            )
        ).first()
        return FeedRecord(**row._mapping) if row is not None else None

    async def version(self, adviser_id: str, window: Interval) -> tuple[Any, ...]:
        """What changes whenever anything the feed shows changes, read in one statement
        without the rows."""
        booked = (
            sa.select(
                sa.func.count().label("n"),
                sa.func.max(appointments.c.updated_at).label("changed"),
                sa.func.sum(appointments.c.revision).label("revisions"),
            )
            .where(*_in_window(adviser_id, window))
            .subquery()
        )
        joined = (
            sa.select(
                sa.func.count(sa.distinct(dropin_sessions.c.id)).label("sessions"),
                sa.func.count(dropin_queue.c.id).label("entries"),
                sa.func.max(dropin_queue.c.joined_at).label("joined"),
            )
            .select_from(dropin_sessions.outerjoin(dropin_queue))
            .where(*_dropins_in_window(adviser_id, window))
            .subquery()
        )
        both = sa.select(booked, joined).select_from(booked.join(joined, sa.true()))
        row = (await self._session.execute(both)).one()
        return tuple(row)

    async def booked(self, adviser_id: str, window: Interval) -> list[BookedTime]:
        rows = await self._session.execute(
            sa.select(
                appointments.c.id,
                appointments.c.session_type,
                appointments.c.starts_at,
                appointments.c.ends_at,
                appointments.c.status,
                appointments.c.revision,
                appointments.c.updated_at,
                appointments.c.place_key,
                appointments.c.capacity,
                appointments.c.location,
                students.c.display_name,
                students.c.year_group,
                schools.c.name.label("school_name"),
            )
            .join(students, students.c.id == appointments.c.student_id)
            .join(schools, schools.c.id == appointments.c.school_id)
            .where(*_in_window(adviser_id, window))
        )
        return [
            BookedTime(
                id=id_,
                session_type=SessionType(kind),
                interval=Interval(start, end),
                cancelled=status == "cancelled",
                revision=revision,
                updated_at=updated_at,
                place_key=place_key,
                capacity=capacity,
                student_name=name,
                year_group=year_group,
                school_name=school_name,
                room=room,
            )
            for (
                id_,
                kind,
                start,
                end,
                status,
                revision,
                updated_at,
                place_key,
                capacity,
                room,
                name,
                year_group,
                school_name,
            ) in rows
        ]

    async def dropins(self, adviser_id: str, window: Interval) -> list[DropInBlock]:
        rows = await self._session.execute(
            sa.select(
                dropin_sessions.c.id,
                dropin_sessions.c.starts_at,
                dropin_sessions.c.ends_at,
                dropin_sessions.c.location,
                schools.c.name.label("school_name"),
                sa.func.count(dropin_queue.c.id).label("booked"),
                sa.func.max(dropin_queue.c.joined_at).label("last_joined_at"),
            )
            .select_from(dropin_sessions.join(schools).outerjoin(dropin_queue))
            .where(*_dropins_in_window(adviser_id, window))
            .group_by(
                dropin_sessions.c.id,
                dropin_sessions.c.starts_at,
                dropin_sessions.c.ends_at,
                dropin_sessions.c.location,
                schools.c.name,
            )
        )
        return [
            DropInBlock(
                id=row.id,
                interval=Interval(row.starts_at, row.ends_at),
                school_name=row.school_name,
                room=row.location,
                booked=row.booked,
                last_joined_at=row.last_joined_at,
            )
            for row in rows
        ]


def _in_window(adviser_id: str, window: Interval) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        appointments.c.adviser_id == adviser_id,
        appointments.c.starts_at >= window.start,
        appointments.c.starts_at < window.end,
    )


def _dropins_in_window(adviser_id: str, window: Interval) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        dropin_sessions.c.adviser_id == adviser_id,
        dropin_sessions.c.starts_at >= window.start,
        dropin_sessions.c.starts_at < window.end,
    )


class CalendarImportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, adviser_id: str) -> CalendarImport | None:
        row = (
            await self._session.execute(
                sa.select(calendar_imports).where(calendar_imports.c.adviser_id == adviser_id)
            )
        ).first()
        return CalendarImport(**row._mapping) if row is not None else None

    async def register(self, adviser_id: str, url: str, now: datetime) -> None:
        """A new URL starts afresh: due now, no validators, the old busy time kept until
        the first good fetch replaces it."""
        await self._session.execute(
            calendar_imports.delete().where(calendar_imports.c.adviser_id == adviser_id)
        )
        await self._session.execute(
            calendar_imports.insert().values(
                adviser_id=adviser_id, url=url, due_at=now, created_at=now
            )
        )

    async def remove(self, adviser_id: str) -> None:
        await self._session.execute(
            calendar_imports.delete().where(calendar_imports.c.adviser_id == adviser_id)
        )
        await self.replace_busy(adviser_id, [])

    async def claim_due(self, now: datetime, lease_until: datetime) -> CalendarImport | None:
        """Take the next import due (and not leased) by setting its lease; the caller commits
        before fetching. The conditional update makes two replicas' claims exclusive."""
        due = sa.and_(
            calendar_imports.c.due_at <= now,
            sa.or_(calendar_imports.c.lease_until.is_(None), calendar_imports.c.lease_until < now),
        )
        adviser_id = (
            await self._session.execute(
                sa.select(calendar_imports.c.adviser_id)
                .where(due)
                .order_by(calendar_imports.c.due_at)
                .limit(1)
            )
        ).scalar()
        if adviser_id is None:
            return None
        claimed = await self._session.execute(
            calendar_imports.update()
            .where(calendar_imports.c.adviser_id == adviser_id, due)
            .values(lease_until=lease_until)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return await self.get(adviser_id)

    async def record(self, adviser_id: str, url: str, **values: Any) -> bool:
        """Write a fetch's outcome and free the lease, unless the PA changed or removed the
        URL meanwhile (then the outcome is for a calendar no longer theirs)."""
        result = await self._session.execute(
            calendar_imports.update()
            .where(calendar_imports.c.adviser_id == adviser_id, calendar_imports.c.url == url)
            .values(lease_until=None, **values)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def replace_busy(self, adviser_id: str, intervals: Sequence[Interval]) -> None:
        await self._session.execute(
            adviser_busy.delete().where(
                adviser_busy.c.adviser_id == adviser_id, adviser_busy.c.source == CALENDAR_SOURCE
            )
        )
        if intervals:
            await self._session.execute(
                adviser_busy.insert(),
                [
                    {
                        "id": str(uuid.uuid4()),
                        "adviser_id": adviser_id,
                        "starts_at": i.start,
                        "ends_at": i.end,
                        "source": CALENDAR_SOURCE,
                    }
                    for i in intervals
                ],
            )

    async def unalerted(self, adviser_id: str, span: Interval) -> list[Appointment]:
        """The PA's confirmed appointments in `span` not yet alerted at their revision."""
        alerted = sa.exists().where(
            calendar_clashes.c.appointment_id == appointments.c.id,
            calendar_clashes.c.revision == appointments.c.revision,
        )
        rows = await self._session.execute(
            sa.select(appointments)
            .where(
                appointments.c.adviser_id == adviser_id,
                appointments.c.status == "confirmed",
                appointments.c.starts_at < span.end,
                appointments.c.ends_at > span.start,
                ~alerted,
            )
            .order_by(appointments.c.starts_at)
        )
        return [appointment_from_row(row) for row in rows]

    async def mark_alerted(self, alerted: Sequence[Appointment], now: datetime) -> None:
        if alerted:
            await self._session.execute(
                calendar_clashes.insert(),
                [
                    {
                        "appointment_id": r.id,
                        "revision": r.revision,
                        "adviser_id": r.adviser_id,
                        "detected_at": now,
                    }
                    for r in alerted
                ],
            )
