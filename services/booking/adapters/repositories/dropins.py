"""Drop-in sessions and their live queues in and out of their tables."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import dropin_queue, dropin_sessions
from services.booking.application.ports import DropInSession, StoredQueue
from services.booking.domain.dropin_queue import DropInQueue, QueueEntry, QueueStatus
from shared.db import upsert


class DropInRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, session_id: str) -> DropInSession | None:
        row = (
            await self._session.execute(
                sa.select(dropin_sessions).where(dropin_sessions.c.id == session_id)
            )
        ).first()
        return DropInSession(**row._mapping) if row is not None else None

    async def stored(self, ids: Sequence[str]) -> dict[str, DropInSession]:
        if not ids:
            return {}
        rows = await self._session.execute(
            sa.select(dropin_sessions).where(dropin_sessions.c.id.in_(ids))
        )
        return {row.id: DropInSession(**row._mapping) for row in rows}

    async def at_school(
        self, school_id: str, start: datetime, end: datetime
    ) -> list[DropInSession]:
        """The school's stored sessions starting in [start, end), earliest first."""
        rows = await self._session.execute(
            sa.select(dropin_sessions)
            .where(
                dropin_sessions.c.school_id == school_id,
                dropin_sessions.c.starts_at >= start,
                dropin_sessions.c.starts_at < end,
            )
            .order_by(dropin_sessions.c.starts_at, dropin_sessions.c.adviser_id)
        )
        return [DropInSession(**row._mapping) for row in rows]

    async def store(self, session: DropInSession) -> None:
        """Insert or update: replicas storing the same derived session agree."""
        await upsert(self._session, dropin_sessions, session.__dict__)

    async def queue(self, session: DropInSession, *, lock: bool) -> StoredQueue:
        """The session's queue; with `lock`, locked for this transaction on PostgreSQL.

        Two advisers pressing "next" at once must not call the same student: the second
        waits for the first to commit and then reads the queue as it left it. (SQLite
        serialises every write transaction anyway.)
        """
        query = (
            sa.select(dropin_queue)
            .where(dropin_queue.c.session_id == session.id)
            .order_by(dropin_queue.c.position)
        )
        bind = self._session.bind
        if lock and bind is not None and bind.dialect.name == "postgresql":
            query = query.with_for_update()
        rows = (await self._session.execute(query)).all()
        entries = [
            QueueEntry(
                student_id=r.student_id,
                joined_at=r.joined_at,
                status=QueueStatus(r.status),
                adviser_id=r.adviser_id,
                called_at=r.called_at,
                finished_at=r.finished_at,
            )
            for r in rows
        ]
        open_ids = {
            entry.student_id: row.id
            for entry, row in zip(entries, rows, strict=True)
            if entry.is_open
        }
        return StoredQueue(DropInQueue(session.id, session.slot_minutes, 1, entries), open_ids)

    async def add_entry(self, session_id: str, entry: QueueEntry, position: int) -> None:
        await self._session.execute(
            dropin_queue.insert().values(
                id=str(uuid.uuid4()),
                session_id=session_id,
                student_id=entry.student_id,
                position=position,
                joined_at=entry.joined_at,
                status=entry.status.value,
            )
        )

    async def update_entry(self, entry_id: str, entry: QueueEntry) -> None:
        await self._session.execute(
            dropin_queue.update()
            .where(dropin_queue.c.id == entry_id)
            .values(
                status=entry.status.value,
                adviser_id=entry.adviser_id,
                called_at=entry.called_at,
                finished_at=entry.finished_at,
            )
        )
