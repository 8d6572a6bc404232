"""Looking after the outbox and inbox: the backlog, parked rows, retention and erasure.

- `outbox_backlog`: what the relay's gauges show.
- `parked_rows` and `retry_parked`: rows the broker refused until they were parked, listed
  and put back for the relay.
- `purge`: published outbox rows and inbox rows past retention are deleted, in small batches
  so that no single write holds the database for long. Keep the inbox for longer than the
  topics keep events, or a redelivered old event would be handled twice.
- `redact_key`: for an erasure, the unpublished rows of an aggregate are dropped (except the
  event types that must still go out) and the published rows' bodies are blanked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.logging import get_logger
from shared.messaging.tables import FAILED, PENDING, PUBLISHED, inbox, outbox
from shared.metrics import MESSAGING_PURGED

log = get_logger(__name__)

PURGE_BATCH = 1000


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


@dataclass(frozen=True)
class Purged:
    outbox: int
    inbox: int


async def purge(db: Database, older_than: timedelta, now: datetime | None = None) -> Purged:
    """Delete published outbox rows and inbox rows older than `older_than`."""
    cutoff = (now or datetime.now(UTC)) - older_than
    old_outbox = (
        sa.select(outbox.c.seq)
        .where(outbox.c.status == PUBLISHED, outbox.c.published_at < cutoff)
        .order_by(outbox.c.seq)  # replicas purging at once lock rows in one order
        .limit(PURGE_BATCH)
    )
    old_inbox = (
        sa.select(inbox.c.consumer, inbox.c.event_id)
        .where(inbox.c.processed_at < cutoff)
        .order_by(inbox.c.consumer, inbox.c.event_id)
        .limit(PURGE_BATCH)
    )
    outbox_deleted = await _delete_in_batches(
        db, sa.delete(outbox).where(outbox.c.seq.in_(old_outbox))
    )
    inbox_deleted = await _delete_in_batches(
        db, sa.delete(inbox).where(sa.tuple_(inbox.c.consumer, inbox.c.event_id).in_(old_inbox))
    )
    return Purged(outbox=outbox_deleted, inbox=inbox_deleted)


async def _delete_in_batches(db: Database, statement: sa.Delete) -> int:
    total = 0
    while True:
        async with db.session() as session:
            result: CursorResult[Any] = await session.execute(statement)  # type: ignore[assignment]
            deleted = result.rowcount or 0
        total += deleted
        if deleted < PURGE_BATCH:
            return total


async def purge_logged(db: Database, service: str, older_than: timedelta) -> Purged:
    """`purge`, counted in `signpost_messaging_purged_total` and logged."""
    purged = await purge(db, older_than)
    MESSAGING_PURGED.labels(service, "outbox").inc(purged.outbox)
    MESSAGING_PURGED.labels(service, "inbox").inc(purged.inbox)
    if purged.outbox or purged.inbox:
        log.info("messaging.purged", outbox=purged.outbox, inbox=purged.inbox)
    return purged


async def redact_key(session: AsyncSession, key: str, *, keep_types: frozenset[str]) -> None:
    """In the caller's transaction: drop `key`'s unpublished rows except `keep_types`, and
    empty the `data` of its published rows' envelopes (ids, types and times stay)."""
    await session.execute(
        sa.delete(outbox).where(
            outbox.c.key == key,
            outbox.c.published_at.is_(None),
            outbox.c.event_type.not_in(keep_types),
        )
    )
    published = await session.execute(
        sa.select(outbox.c.seq, outbox.c.body).where(
            outbox.c.key == key, outbox.c.published_at.is_not(None)
        )
    )
    for seq, body in published.all():
        await session.execute(
            outbox.update().where(outbox.c.seq == seq).values(body=redacted(body))
        )


def redacted(body: str) -> str:
    """The envelope without its payload: `data` is emptied and `redacted` set."""
    envelope = json.loads(body)
    return json.dumps({**envelope, "data": {}, "redacted": True}, separators=(",", ":"))
