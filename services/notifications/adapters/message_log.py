"""What staff and developers read of the messages: the message log, its audit trail, the
reminders planned for an appointment, and the development outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.adapters.orm import (
    appointments,
    contact_owners,
    contacts,
    message_reads,
    messages,
    reminders,
)

_WITH_ROLE = messages.outerjoin(
    contacts,
    sa.and_(contacts.c.owner_id == messages.c.owner_id, contacts.c.route == messages.c.route),
)


class MessageLogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def appointment_owner(self, appointment_id: str) -> tuple[str, str] | None:
        """The school and student of the appointment's copy; None if none is held."""
        row = (
            await self._session.execute(
                sa.select(appointments.c.school_id, appointments.c.student_id).where(
                    appointments.c.id == appointment_id
                )
            )
        ).first()
        return None if row is None else (row.school_id, row.student_id)

    async def school_of_student(self, student_id: str) -> str | None:
        found: str | None = await self._session.scalar(
            sa.select(contact_owners.c.school_id).where(contact_owners.c.owner_id == student_id)
        )
        return found

    async def reminders_of(self, appointment_id: str) -> list[dict[str, Any]]:
        rows = (
            await self._session.execute(
                sa.select(reminders)
                .where(reminders.c.appointment_id == appointment_id)
                .order_by(reminders.c.due_at)
            )
        ).all()
        return [dict(r._mapping) for r in rows]

    async def messages_about(
        self, *, appointment_id: str | None = None, student_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The messages about one appointment or to one student (and their parents), with
        the role of the route each went to, in the order they were due."""
        if appointment_id is not None:
            where = messages.c.appointment_id == appointment_id
        else:
            where = messages.c.student_id == student_id
        rows = (
            await self._session.execute(
                sa.select(
                    messages.c.id,
                    messages.c.kind,
                    messages.c.channel,
                    contacts.c.role,
                    messages.c.status,
                    messages.c.variant,
                    messages.c.attempts,
                    messages.c.due_at,
                    messages.c.handed_at,
                    messages.c.provider_status,
                    messages.c.error,
                    messages.c.appointment_id,
                )
                .select_from(_WITH_ROLE)
                .where(where)
                .order_by(messages.c.due_at, messages.c.kind)
            )
        ).all()
        return [dict(r._mapping) for r in rows]

    async def record_read(
        self,
        now: datetime,
        *,
        reader_id: str,
        reader_role: str,
        appointment_id: str | None,
        student_id: str | None,
        rows: int,
    ) -> None:
        """The audit trail: who read the log about whom, and how many rows they saw."""
        await self._session.execute(
            message_reads.insert().values(
                read_at=now,
                reader_id=reader_id,
                reader_role=reader_role,
                appointment_id=appointment_id,
                student_id=student_id,
                rows=rows,
            )
        )

    async def latest(self, limit: int) -> list[tuple[Any, ...]]:
        """The latest messages with their text, for the development outbox."""
        rows = (
            await self._session.execute(
                sa.select(
                    messages.c.handed_at,
                    messages.c.due_at,
                    messages.c.kind,
                    messages.c.channel,
                    messages.c.variant,
                    messages.c.status,
                    messages.c.provider_status,
                    contacts.c.role,
                    messages.c.body,
                )
                .select_from(_WITH_ROLE)
                .order_by(messages.c.due_at.desc())
                .limit(limit)
            )
        ).all()
        return [tuple(r) for r in rows]
