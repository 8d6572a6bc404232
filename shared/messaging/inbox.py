"""The inbox: which events each consumer has applied, written in the handler's transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import Envelope
from shared.messaging.tables import inbox


async def holds(session: AsyncSession, consumer: str, envelope: Envelope) -> bool:
    """Whether `consumer` has already applied the event."""
    found = await session.scalar(
        sa.select(sa.literal(1)).where(
            inbox.c.consumer == consumer, inbox.c.event_id == str(envelope.id)
        )
    )
    return bool(found)


async def remember(session: AsyncSession, consumer: str, envelope: Envelope) -> None:
    """Note the event as applied by `consumer`, in the transaction that applied it."""
    await session.execute(
        inbox.insert().values(
            consumer=consumer,
            event_id=str(envelope.id),
            event_type=envelope.type,
            processed_at=datetime.now(UTC),
        )
    )
