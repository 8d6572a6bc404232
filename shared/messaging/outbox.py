"""The transactional outbox: events are rows written in the same transaction as the change.

`record` is called by application code inside its unit of work. `OutboxRelay` publishes rows
to Kafka (acks=all) in `seq` order and marks them published. Several replicas may run a
relay against one PostgreSQL database: each batch is claimed with `FOR UPDATE SKIP LOCKED`
inside a transaction that also holds an advisory lock, so replicas take turns batch by batch
and events keep their commit order (and so their per-key order) on the topic. A crash
between publishing and marking means the row is published again, which the consumers' inbox
absorbs (at-least-once delivery, effectively-once processing).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.events import Envelope
from shared.logging import get_logger
from shared.messaging.tables import outbox
from shared.metrics import OUTBOX_PENDING, OUTBOX_PUBLISH_FAILURES, OUTBOX_PUBLISHED

log = get_logger(__name__)

RELAY_LOCK = 0x5349474E  # one relay publishes at a time per database (an arbitrary key)


class Publisher(Protocol):
    """What the relay needs of a Kafka producer."""

    async def publish(self, topic: str, key: str, value: bytes) -> Awaitable[object]: ...


OUTBOX_WRITTEN = "signpost.outbox_written"


def wrote_to_outbox(session: AsyncSession) -> bool:
    """Whether `record` was called in `session` (so the relay should be woken after commit)."""
    return bool(session.info.get(OUTBOX_WRITTEN))


async def record(session: AsyncSession, envelope: Envelope) -> None:
    """Add `envelope` to the outbox within the caller's transaction."""
    session.info[OUTBOX_WRITTEN] = True
    await session.execute(
        outbox.insert().values(
            event_id=str(envelope.id),
            topic=envelope.topic,
            key=envelope.key,
            event_type=envelope.type,
            body=envelope.model_dump_json(),
            created_at=datetime.now(UTC),
        )
    )


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        publisher_factory: Callable[[], Awaitable[Publisher]],
        *,
        service: str,
        batch_size: int = 200,
        poll_seconds: float = 0.5,
        linger_seconds: float = 0.02,
        max_backoff_seconds: float = 5.0,
    ) -> None:
        self._db = db
        self._publisher_factory = publisher_factory
        self._publisher: Publisher | None = None
        self._service = service
        self._batch_size = batch_size
        self._poll = poll_seconds
        self._linger = linger_seconds
        self._max_backoff = max_backoff_seconds
        self._wake = asyncio.Event()
        self.failures = 0

    def wake(self) -> None:
        """Publish soon: called after a transaction that wrote to the outbox commits."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.1
        while not stop.is_set():
            # Cleared before the pass, not after: a commit that wakes us while a batch is
            # being published is picked up by the next pass instead of waiting a whole poll.
            self._wake.clear()
            try:
                published = await self.publish_pending()
                backoff = 0.1
            except Exception as exc:  # the broker or database is away: keep the rows, retry
                OUTBOX_PUBLISH_FAILURES.labels(self._service).inc()
                self.failures += 1
                log.warning("outbox.publish_failed", error=type(exc).__name__, detail=str(exc))
                self._publisher = None
                await self._count_pending()
                await _wait(stop, backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            if published == self._batch_size:
                continue  # more are waiting
            if not self._wake.is_set():
                await _wait_any(stop, self._wake, self._poll)
            if self._wake.is_set():
                # Let a burst of commits gather into one batch: under load this turns a
                # relay transaction and a broker round trip per event into one per burst.
                await _wait(stop, self._linger)

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished rows in order; return how many were published."""
        publisher = await self._ensure_publisher()
        async with self._db.session() as session:
            if not self._db.is_sqlite and not await session.scalar(
                sa.select(sa.func.pg_try_advisory_xact_lock(RELAY_LOCK))
            ):
                return 0  # another replica is publishing a batch; its turn, then ours
            rows = (await session.execute(self._claim_query())).all()
            if not rows:
                OUTBOX_PENDING.labels(self._service).set(0)
                return 0
            deliveries = [await publisher.publish(r.topic, r.key, r.body.encode()) for r in rows]
            await asyncio.gather(*deliveries)
            now = datetime.now(UTC)
            seqs = [r.seq for r in rows]
            await session.execute(
                outbox.update()
                .where(outbox.c.seq.in_(seqs))
                .values(published_at=now, attempts=outbox.c.attempts + 1)
            )
        OUTBOX_PUBLISHED.labels(self._service).inc(len(rows))
        return len(rows)

    def _claim_query(self) -> sa.Select[tuple[int, str, str, str]]:
        query = (
            sa.select(outbox.c.seq, outbox.c.topic, outbox.c.key, outbox.c.body)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.seq)
            .limit(self._batch_size)
        )
        if not self._db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        return query

    async def _count_pending(self) -> None:
        """While publishing fails, show how many events are waiting (if the database answers)."""
        try:
            async with self._db.read_session() as session:
                pending = await session.scalar(
                    sa.select(sa.func.count())
                    .select_from(outbox)
                    .where(outbox.c.published_at.is_(None))
                )
        except Exception:  # the database may be what is away
            return
        OUTBOX_PENDING.labels(self._service).set(pending or 0)

    async def _ensure_publisher(self) -> Publisher:
        if self._publisher is None:
            self._publisher = await self._publisher_factory()
        return self._publisher


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
