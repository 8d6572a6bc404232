"""The one consumer loop: inbox for idempotence, retries with backoff, a dead-letter topic.

For each record: decode the envelope; skip it if this consumer's inbox already holds its id;
otherwise run the handler and insert the inbox row in the same database transaction. The
offset is committed to Kafka only after that transaction commits, so a crash replays the
record and the inbox turns the replay into a no-op. A record that cannot be decoded, or whose
handler keeps failing, goes to the consumer's dead-letter topic with the error in headers
and the loop carries on; if even the dead-letter topic is unreachable, nothing is committed
and the record is read again later. Nothing is silently dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.errors import KafkaError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.context import correlation_scope
from shared.db import Database, is_transient
from shared.events import Envelope, EventPayload, UndecodableEvent, decode
from shared.logging import get_logger
from shared.messaging.kafka import KafkaPublisher
from shared.messaging.outbox import wrote_to_outbox
from shared.messaging.tables import inbox
from shared.metrics import DEAD_LETTERS, EVENTS_CONSUMED

log = get_logger(__name__)

Handler = Callable[[AsyncSession, Envelope, Any], Awaitable[None]]


class Outcome(StrEnum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    DEAD_LETTERED = "dead_lettered"


class EventConsumer:
    def __init__(
        self,
        *,
        name: str,
        topics: Sequence[str],
        handlers: Mapping[str, Handler],
        db: Database,
        bootstrap_servers: str,
        session_timeout_ms: int = 10000,
        max_attempts: int = 5,
        backoff_seconds: float = 0.2,
        after_commit: Callable[[], None] | None = None,
        group_id: str | None = None,
    ) -> None:
        self.name = name
        # The inbox is keyed by `name`, which must stay stable; the group may be prefixed so
        # that separate deployments (or test instances) sharing a broker do not share work.
        self.group_id = group_id or name
        self.dead_letter_topic = f"{name}.dlq"
        self._topics = list(topics)
        self._handlers = dict(handlers)
        self._db = db
        self._bootstrap = bootstrap_servers
        self._session_timeout_ms = session_timeout_ms
        self._max_attempts = max_attempts
        self._backoff = backoff_seconds
        self._after_commit = after_commit
        self._stopping = asyncio.Event()  # replaced by `run`'s stop event
        self._broker_backoff = 0.2
        self._dead_letters: KafkaPublisher | None = None

    async def run(self, stop: asyncio.Event) -> None:
        self._stopping = stop
        self._broker_backoff = 0.2
        while not stop.is_set():
            try:
                await self._consume(stop)
            except (KafkaError, OSError) as exc:
                log.warning("consumer.broker_unavailable", consumer=self.name, error=repr(exc))
                await _sleep_unless(stop, self._broker_backoff)
                self._broker_backoff = min(self._broker_backoff * 2, 5.0)
            except _Stopped:
                break
        if self._dead_letters is not None:
            await self._dead_letters.close()

    async def _consume(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            *self._topics,
            bootstrap_servers=self._bootstrap,
            group_id=self.group_id,
            client_id=self.name,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=max(self._session_timeout_ms // 3, 100),
            rebalance_timeout_ms=self._session_timeout_ms,
        )
        await consumer.start()
        self._broker_backoff = 0.2  # connected again: the next outage starts waiting afresh
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=300, max_records=200)
                for tp, records in batches.items():
                    for record in records:
                        await self.process(record)
                    await consumer.commit({tp: records[-1].offset + 1})
        finally:
            await consumer.stop()

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> Outcome:
        """Handle one record to its end: processed, skipped, or dead-lettered."""
        try:
            envelope, payload = decode(record.value)
        except UndecodableEvent as exc:
            await self._dead_letter(record, "undecodable", str(exc))
            return Outcome.DEAD_LETTERED
        handler = self._handlers.get(envelope.type)
        if handler is None:
            EVENTS_CONSUMED.labels(self.name, envelope.type, Outcome.IGNORED).inc()
            return Outcome.IGNORED
        if payload is None:
            reason = f"no schema for {envelope.type} v{envelope.version}"
            await self._dead_letter(record, "unknown_version", reason, envelope.type)
            return Outcome.DEAD_LETTERED
        with correlation_scope(envelope.correlation_id or str(envelope.id), str(envelope.id)):
            return await self._process_with_retries(record, envelope, payload, handler)

    async def _process_with_retries(
        self,
        record: ConsumerRecord[bytes, bytes],
        envelope: Envelope,
        payload: EventPayload,
        handler: Handler,
    ) -> Outcome:
        delay = self._backoff
        attempt = outage = 0
        while True:
            try:
                outcome = await self._apply(envelope, payload, handler)
            except Exception as exc:
                if is_transient(exc):
                    # The database is away, not the event at fault: wait for it without
                    # committing the offset, however long it takes.
                    outage += 1
                    log.warning(
                        "consumer.database_unavailable",
                        consumer=self.name,
                        error=type(exc).__name__,
                    )
                    await _sleep_unless(self._stopping, min(delay * 2 ** min(outage, 6), 10.0))
                    if self._stopping.is_set():
                        raise _Stopped from exc  # leave the offset uncommitted for next time
                    continue
                attempt += 1
                log.warning(
                    "consumer.handler_failed",
                    consumer=self.name,
                    event_id=str(envelope.id),
                    event_type=envelope.type,
                    attempt=attempt,
                    error=type(exc).__name__,
                )
                if attempt >= self._max_attempts:
                    # Only the exception's type: its text may hold personal data (SQL parameters).
                    await self._dead_letter(
                        record, "handler_failed", type(exc).__name__, envelope.type
                    )
                    return Outcome.DEAD_LETTERED
                await asyncio.sleep(delay * 2 ** (attempt - 1))
                continue
            EVENTS_CONSUMED.labels(self.name, envelope.type, outcome).inc()
            return outcome

    async def _apply(self, envelope: Envelope, payload: EventPayload, handler: Handler) -> Outcome:
        try:
            async with self._db.session() as session:
                seen = await session.scalar(
                    sa.select(sa.literal(1)).where(
                        inbox.c.consumer == self.name, inbox.c.event_id == str(envelope.id)
                    )
                )
                if seen:
                    return Outcome.DUPLICATE
                await handler(session, envelope, payload)
                wrote = wrote_to_outbox(session)
                await session.execute(
                    inbox.insert().values(
                        consumer=self.name,
                        event_id=str(envelope.id),
                        event_type=envelope.type,
                        processed_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            if await self._already_processed(envelope):
                return Outcome.DUPLICATE  # another replica processed it at the same time
            raise
        if wrote and self._after_commit is not None:
            self._after_commit()  # the handler emitted events: publish them soon
        return Outcome.PROCESSED

    async def _already_processed(self, envelope: Envelope) -> bool:
        async with self._db.read_session() as session:
            found = await session.scalar(
                sa.select(sa.literal(1)).where(
                    inbox.c.consumer == self.name, inbox.c.event_id == str(envelope.id)
                )
            )
        return bool(found)

    async def _dead_letter(
        self,
        record: ConsumerRecord[bytes, bytes],
        reason: str,
        detail: str,
        event_type: str = "?",
    ) -> None:
        if self._dead_letters is None:
            self._dead_letters = await KafkaPublisher.connect(
                self._bootstrap, client_id=f"{self.name}-dlq"
            )
        headers = [
            ("dlq.reason", reason.encode()),
            ("dlq.detail", detail[:1000].encode()),
            ("dlq.topic", record.topic.encode()),
            ("dlq.partition", str(record.partition).encode()),
            ("dlq.offset", str(record.offset).encode()),
        ]
        key = record.key.decode(errors="replace") if record.key else f"{record.topic}"
        delivery = await self._dead_letters.publish(
            self.dead_letter_topic, key, record.value or b"", headers=headers
        )
        await delivery
        DEAD_LETTERS.labels(self.name).inc()
        EVENTS_CONSUMED.labels(self.name, event_type, Outcome.DEAD_LETTERED).inc()
        log.error(
            "consumer.dead_lettered",
            consumer=self.name,
            reason=reason,
            detail=detail[:300],
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
        )


class _Stopped(Exception):
    """The service is stopping while a record waits for the database."""


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
