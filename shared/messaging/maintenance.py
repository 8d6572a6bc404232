"""Looking after the outbox: the backlog and parked rows.

- `outbox_backlog`: what the relay's gauges show.
- `parked_rows` and `retry_parked`: rows the broker refused until they were parked, listed
  and put back for the relay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult

from shared.db import Database
from shared.messaging.tables import FAILED, PENDING, outbox


@dataclass(frozen=True)
class Backlog:
    pending: int
    oldest_pending_seconds: float
    failed: int


async def outbox_backlog(db: Database, now: datetime | None = None) -> Backlog:
    async with db.single_read() as conn:
        rows = (
            await conn.execute(
                sa.select(outbox.c.status, sa.func.count(), sa.func.min(outbox.c.created_at))
                .where(outbox.c.published_at.is_(None))
                .group_by(outbox.c.status)
            )
        ).all()
    counts = {status: (count, oldest) for status, count, oldest in rows}
    pending, oldest = counts.get(PENDING, (0, None))
    age = 0.0 if oldest is None else ((now or datetime.now(UTC)) - oldest).total_seconds()
    return Backlog(
        pending=pending, oldest_pending_seconds=max(age, 0.0), failed=counts.get(FAILED, (0,))[0]
    )


@dataclass(frozen=True)
class ParkedRow:
    seq: int
    event_type: str
    key: str
    attempts: int
    last_error: str | None
    failed_at: datetime | None


async def parked_rows(db: Database) -> list[ParkedRow]:
    async with db.read_session() as session:
        rows = await session.execute(
            sa.select(
                outbox.c.seq,
                outbox.c.event_type,
                outbox.c.key,
                outbox.c.attempts,
                outbox.c.last_error,
                outbox.c.failed_at,
            )
            .where(outbox.c.status == FAILED)
            .order_by(outbox.c.seq)
        )
        return [ParkedRow(*row) for row in rows.all()]


class NotParked(LookupError):
    """The outbox row asked for does not exist or is not parked."""


async def retry_parked(db: Database, seq: int | None = None) -> int:
    """Put parked rows (or the one row `seq`) back for the relay; return how many."""
    query = outbox.update().where(outbox.c.status == FAILED)
    if seq is not None:
        query = query.where(outbox.c.seq == seq)
    async with db.session() as session:
        result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
            query.values(status=PENDING, attempts=0, failed_at=None, next_attempt_at=None)
        )
    count = result.rowcount or 0
    if seq is not None and count == 0:
        raise NotParked(f"outbox row {seq} is not parked")
    return count
