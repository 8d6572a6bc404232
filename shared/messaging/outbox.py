"""The transactional outbox: events are rows written in the same transaction as the change.

`record` is called by application code inside its unit of work. `OutboxRelay` publishes rows
to Kafka (acks=all) in `seq` order and marks them published. It claims a batch in a short
transaction (`shared.messaging.claims`), publishes with no transaction open, and records the
outcome in another short one, so no request or consumer ever waits for the broker. Several
replicas may share one database: claims are taken in turn, and a row waits behind an earlier
unpublished row of its key, so each key's events reach the topic in commit order. A crash
between publishing and marking means the row is published again, which the consumers' inbox
absorbs (at-least-once delivery, effectively-once processing).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from aiokafka.errors import (
    InvalidTopicError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
)
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.events import Envelope
from shared.logging import get_logger
from shared.messaging.claims import Claimed, Outcome, RetryPolicy, claim_strategy, settle
from shared.messaging.maintenance import outbox_backlog
from shared.messaging.tables import outbox
from shared.metrics import (
    OUTBOX_FAILED,
    OUTBOX_OLDEST_PENDING,
    OUTBOX_PENDING,
    OUTBOX_PUBLISH_FAILURES,
    OUTBOX_PUBLISHED,
)

log = get_logger(__name__)

# Refusals of one record rather than failures of the broker. aiokafka raises the unknown
# topic only after waiting `request_timeout_ms` for it to appear.
PERMANENT_ERRORS = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    RecordListTooLargeError,
    InvalidTopicError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
    TypeError,
    ValueError,
)


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
        retry: RetryPolicy | None = None,
        lease_seconds: float = 30.0,
        gauge_seconds: float = 1.0,
    ) -> None:
        self._db = db
        self._publisher_factory = publisher_factory
        self._publisher: Publisher | None = None
        self._service = service
        self._batch_size = batch_size
        self._poll = poll_seconds
        self._linger = linger_seconds
        self._max_backoff = max_backoff_seconds
        self._retry = retry or RetryPolicy()
        self._claims = claim_strategy(db, timedelta(seconds=lease_seconds))
        self._gauge_seconds = gauge_seconds
        self._gauges_at = float("-inf")
        self._claimed = 0
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
                await self.publish_pending()
                backoff = 0.1
            except Exception as exc:  # the broker or database is away: keep the rows, retry
                OUTBOX_PUBLISH_FAILURES.labels(self._service).inc()
                self.failures += 1
                log.warning("outbox.publish_failed", error=type(exc).__name__, detail=str(exc))
                self._publisher = None
                await self.refresh_gauges()
                await _wait(stop, backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            await self.refresh_gauges(throttled=True)
            if self._claimed == self._batch_size:
                continue  # more are waiting
            if not self._wake.is_set():
                await _wait_any(stop, self._wake, self._poll)
            if self._wake.is_set():
                # Let a burst of commits gather into one batch: under load this turns a
                # relay transaction and a broker round trip per event into one per burst.
                await _wait(stop, self._linger)

    async def publish_pending(self) -> int:
        """Publish one batch of due rows in order; return how many were published.

        The broker is waited for with no transaction open. A row the broker refuses for a
        reason of its own is tried again later and parked after `RetryPolicy.max_attempts`;
        when the broker itself fails, what went out is marked and the error is raised.
        """
        self._claimed = 0
        publisher = await self._ensure_publisher()
        rows = await self._claims.claim(datetime.now(UTC), self._batch_size)
        self._claimed = len(rows)
        if not rows:
            return 0
        outcome, broker_error = await publish_batch(publisher, rows)
        await settle(self._db, outcome, datetime.now(UTC), self._retry)
        OUTBOX_PUBLISHED.labels(self._service).inc(len(outcome.published))
        if outcome.refused:
            OUTBOX_PUBLISH_FAILURES.labels(self._service).inc(len(outcome.refused))
            for row, error in outcome.refused.values():
                parked = row.attempts + 1 >= self._retry.max_attempts
                log.warning(
                    "outbox.row_parked" if parked else "outbox.row_refused",
                    seq=row.seq,
                    attempts=row.attempts + 1,
                    error=error,
                )
        if broker_error is not None:
            raise broker_error
        return len(outcome.published)

    async def refresh_gauges(self, *, throttled: bool = False) -> None:
        """Set the pending, oldest-pending and parked gauges from the table."""
        now = asyncio.get_running_loop().time()
        if throttled and now - self._gauges_at < self._gauge_seconds:
            return
        self._gauges_at = now
        try:
            backlog = await outbox_backlog(self._db)
        except Exception:  # the database may be what is away
            return
        OUTBOX_PENDING.labels(self._service).set(backlog.pending)
        OUTBOX_OLDEST_PENDING.labels(self._service).set(backlog.oldest_pending_seconds)
        OUTBOX_FAILED.labels(self._service).set(backlog.failed)

    async def _ensure_publisher(self) -> Publisher:
        if self._publisher is None:
            self._publisher = await self._publisher_factory()
        return self._publisher


async def publish_batch(
    publisher: Publisher, rows: list[Claimed]
) -> tuple[Outcome, Exception | None]:
    """Send `rows` in order; a key whose row is refused sends nothing more in this batch.

    The producer finds most refusals as it is handed the record (too large, no such topic,
    not serialisable). One the broker reports later, on delivery, comes after the rest of the
    batch was sent, so a later row of the same key in that batch may already be out.
    """
    outcome = Outcome()
    broker_error: Exception | None = None
    held_keys: set[str] = set()
    sent: list[tuple[Claimed, Awaitable[object]]] = []
    for row in rows:
        if broker_error is not None or row.key in held_keys:
            outcome.released.append(row.seq)
            continue
        try:
            sent.append((row, await publisher.publish(row.topic, row.key, row.body.encode())))
        except Exception as exc:
            if refused_for_the_record(exc):
                outcome.refused[row.seq] = (row, type(exc).__name__)
                held_keys.add(row.key)
            else:
                broker_error = exc
                outcome.released.append(row.seq)
    results = await asyncio.gather(*(delivery for _, delivery in sent), return_exceptions=True)
    for (row, _), result in zip(sent, results, strict=True):
        if not isinstance(result, Exception):
            outcome.published.append(row.seq)
        elif refused_for_the_record(result):
            outcome.refused[row.seq] = (row, type(result).__name__)
        else:
            broker_error = broker_error or result
            outcome.released.append(row.seq)
    return outcome, broker_error


def refused_for_the_record(exc: BaseException) -> bool:
    """An error that trying again soon will not cure (too large, no such topic, cannot be
    serialised), as opposed to the broker being away or slow."""
    return isinstance(exc, PERMANENT_ERRORS)


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
