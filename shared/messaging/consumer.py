"""The one consumer loop: inbox for idempotence, retries that fit the failure, dead letters.

For each record: decode the envelope; skip it if this consumer's inbox already holds its id;
otherwise run the handler and insert the inbox row in the same database transaction. The
offset is committed to Kafka only after that transaction commits, so a crash replays the
record and the inbox turns the replay into a no-op. A record that cannot be decoded, or whose
handler keeps failing, goes to the consumer's dead-letter topic with the error in headers
and the loop carries on; if even the dead-letter topic is unreachable, nothing is committed
and the record is read again later. Nothing is silently dropped.

Failures are told apart: a database outage is waited out however long it lasts; a deadlock,
serialization failure or locked SQLite file is run again with jitter, outside the handler's
failure budget; anything else (an outside system's timeout too) is the handler's error.

Each handler is called as `handler(event, uow)`: the typed `Event` (envelope and payload)
and the service's unit of work, built by the factory the service registered the consumer
with over the consumer's own session (`UnitOfWork.within`), so the handler's writes, the
events it emits and the inbox row commit together or not at all.

A rebalance does not tear the loop down: on revocation the record in hand finishes, the rest
of the batch for revoked partitions is left for their new owner, and what was processed is
committed. A record of a newer schema version than this build knows pauses its partition
(uncommitted) until a newer build takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any, Generic, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import (
    CommitFailedError,
    IllegalGenerationError,
    IllegalStateError,
    KafkaError,
    RebalanceInProgressError,
    UnknownMemberIdError,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.context import correlation_scope
from shared.db import Database, is_contention, is_database_outage
from shared.events import Envelope, Event, EventPayload, UndecodableEvent, decode
from shared.events.envelope import registry
from shared.logging import get_logger
from shared.messaging.dead_letters import DeadLetterSink
from shared.messaging.inbox import holds, remember
from shared.messaging.outbox import wrote_to_outbox
from shared.metrics import CONSUMER_LAG, CONSUMER_PAUSED, CONSUMER_RESTARTS, EVENTS_CONSUMED

log = get_logger(__name__)

U = TypeVar("U")

Handler = Callable[[Event[Any], U], Awaitable[None]]
"""An event handler: the event, and the service's unit of work in the consumer's transaction."""

UnitOfWorkFactory = Callable[[AsyncSession], U]
"""Builds a service's unit of work over the session of the consumer's transaction."""

# A commit refused because the group moved on: the partition's new owner replays from the
# last committed offset and the inbox absorbs what was already applied.
_LOST_COMMIT = (
    CommitFailedError,
    IllegalGenerationError,
    IllegalStateError,
    RebalanceInProgressError,
    UnknownMemberIdError,
)


class Outcome(StrEnum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    DEAD_LETTERED = "dead_lettered"
    NEWER_VERSION = "newer_version"


class EventConsumer(Generic[U]):
    def __init__(
        self,
        *,
        name: str,
        topics: Sequence[str],
        handlers: Mapping[str, Handler[U]],
        unit_of_work: UnitOfWorkFactory[U],
        db: Database,
        bootstrap_servers: str,
        session_timeout_ms: int = 10000,
        max_attempts: int = 5,
        backoff_seconds: float = 0.2,
        contention_attempts: int = 30,
        after_commit: Callable[[], None] | None = None,
        group_id: str | None = None,
        idempotent_producer: bool = False,
    ) -> None:
        self.name = name
        # The inbox is keyed by `name`, which must stay stable; the group may be prefixed so
        # that separate deployments (or test instances) sharing a broker do not share work.
        self.group_id = group_id or name
        self._dead_letters = DeadLetterSink(name, bootstrap_servers, idempotent=idempotent_producer)
        self.dead_letter_topic = self._dead_letters.topic
        self.topics = list(topics)
        self._handlers = dict(handlers)
        self._unit_of_work = unit_of_work
        self._db = db
        self.bootstrap_servers = bootstrap_servers
        self._session_timeout_ms = session_timeout_ms
        self._max_attempts = max_attempts
        self._backoff = backoff_seconds
        self._contention_attempts = contention_attempts
        self._after_commit = after_commit
        self._stopping = asyncio.Event()  # replaced by `run`'s stop event
        self._broker_backoff = 0.2
        self.restarts = 0  # reconnections after a broker error (a rebalance is not one)
        self._kafka: AIOKafkaConsumer | None = None
        self._busy = asyncio.Lock()  # held while a record is in hand
        self._done: dict[TopicPartition, int] = {}  # processed, not yet committed
        self._generation = 0  # raised at each revocation: batches fetched before it are stale
        self._paused: set[TopicPartition] = set()

    async def run(self, stop: asyncio.Event) -> None:
        self._stopping = stop
        self._broker_backoff = 0.2
        try:
            while not stop.is_set():
                try:
                    await self._consume(stop)
                except (KafkaError, OSError) as exc:
                    self.restarts += 1
                    CONSUMER_RESTARTS.labels(self.name).inc()
                    log.warning("consumer.broker_unavailable", consumer=self.name, error=repr(exc))
                    await _sleep_unless(stop, self._broker_backoff)
                    self._broker_backoff = min(self._broker_backoff * 2, 5.0)
                except _Stopped:
                    break
        finally:
            await self.close()

    async def close(self) -> None:
        await self._dead_letters.close()

    async def _consume(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            group_id=self.group_id,
            client_id=self.name,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=max(self._session_timeout_ms // 3, 100),
            rebalance_timeout_ms=self._session_timeout_ms,
        )
        consumer.subscribe(self.topics, listener=_Rebalance(self))
        self._kafka = consumer
        await consumer.start()
        self._broker_backoff = 0.2  # connected again: the next outage starts waiting afresh
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=300, max_records=200)
                generation = self._generation
                for tp, records in batches.items():
                    await self._take(consumer, tp, records, generation)
                await self._measure_lag(consumer)
        finally:
            self._kafka = None
            self._done.clear()
            self._forget_paused(set(self._paused))
            await consumer.stop()

    async def _take(
        self,
        consumer: AIOKafkaConsumer,
        tp: TopicPartition,
        records: list[ConsumerRecord[bytes, bytes]],
        generation: int,
    ) -> None:
        """Process a partition's batch in order, then commit what was processed."""
        for record in records:
            async with self._busy:
                # Revoked since the batch came (the partition's owner reads the rest), held
                # back, or stopping: what was processed is committed below.
                if self._generation != generation or tp in self._paused or self._stopping.is_set():
                    break
                if await self.process(record) is Outcome.NEWER_VERSION:
                    self._pause(consumer, tp, record.offset)
                    break
                self._done[tp] = record.offset + 1
        await self._commit(consumer, [tp])

    async def _commit(self, consumer: AIOKafkaConsumer, tps: Iterable[TopicPartition]) -> None:
        offsets = {tp: self._done.pop(tp) for tp in tps if tp in self._done}
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except _LOST_COMMIT as exc:
            log.info(
                "consumer.commit_lost_to_rebalance",
                consumer=self.name,
                partitions=sorted(f"{tp.topic}/{tp.partition}" for tp in offsets),
                error=type(exc).__name__,
            )

    async def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        self._generation += 1
        async with self._busy:  # wait for the record in hand, take no more from these
            if self._kafka is not None:
                await self._commit(self._kafka, revoked)
        self._forget_paused(revoked)
        for tp in revoked:
            with contextlib.suppress(KeyError):
                CONSUMER_LAG.remove(self.name, tp.topic, str(tp.partition))

    def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info(
            "consumer.assigned",
            consumer=self.name,
            partitions=sorted(f"{tp.topic}/{tp.partition}" for tp in assigned),
        )

    def _pause(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
        """Hold the partition at `offset`, uncommitted, for a build that knows the version."""
        consumer.seek(tp, offset)
        consumer.pause(tp)
        self._paused.add(tp)
        self._publish_paused()

    def _forget_paused(self, tps: set[TopicPartition]) -> None:
        self._paused -= tps
        self._publish_paused()

    def _publish_paused(self) -> None:
        for topic in self.topics:
            count = sum(1 for tp in self._paused if tp.topic == topic)
            CONSUMER_PAUSED.labels(self.name, topic).set(count)

    async def _measure_lag(self, consumer: AIOKafkaConsumer) -> None:
        for tp in consumer.assignment():
            try:
                highwater = consumer.highwater(tp)
                if highwater is None:
                    continue  # nothing fetched for it yet
                position = await consumer.position(tp)
            except (AssertionError, IllegalStateError):
                continue  # revoked meanwhile
            lag = max(highwater - position, 0)
            CONSUMER_LAG.labels(self.name, tp.topic, str(tp.partition)).set(lag)

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> Outcome:
        """Handle one record to its end: processed, skipped, dead-lettered, or held back."""
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
            known = registry.latest_version(envelope.type)
            if known is not None and envelope.version > known:
                EVENTS_CONSUMED.labels(self.name, envelope.type, Outcome.NEWER_VERSION).inc()
                log.error(
                    "consumer.newer_version_paused",
                    consumer=self.name,
                    event_type=envelope.type,
                    version=envelope.version,
                    known_version=known,
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                )
                return Outcome.NEWER_VERSION
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
        handler: Handler[U],
    ) -> Outcome:
        delay = self._backoff
        attempt = outage = contention = 0
        while True:
            try:
                outcome = await self._apply(envelope, payload, handler)
            except Exception as exc:
                if is_contention(exc) and contention < self._contention_attempts:
                    # Lost a race with another transaction: run it again after a random
                    # pause, so that the two do not meet again at once.
                    contention += 1
                    log.info(
                        "consumer.contention",
                        consumer=self.name,
                        event_id=str(envelope.id),
                        attempt=contention,
                    )
                    await asyncio.sleep(random.uniform(0, min(delay * 2 ** min(contention, 5), 2)))
                    continue
                if await self._database_away(exc):
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

    async def _database_away(self, exc: Exception) -> bool:
        """An outage of the database, asking it when the error alone does not say.

        A bare timeout may be the driver's or an outside system's; a refused login or a
        missing database fails every event alike. Whatever the error, if the database does
        not answer, the event is not at fault.
        """
        if is_database_outage(exc):
            return True
        try:
            await asyncio.wait_for(self._db.ping(), 5.0)
        except Exception:
            return True
        return False  # the database answers: an outside system failed the handler

    async def _apply(
        self, envelope: Envelope, payload: EventPayload, handler: Handler[U]
    ) -> Outcome:
        try:
            async with self._db.session() as session:
                if await holds(session, self.name, envelope):
                    return Outcome.DUPLICATE
                await handler(Event(envelope, payload), self._unit_of_work(session))
                wrote = wrote_to_outbox(session)  # what the unit of work emitted
                await remember(session, self.name, envelope)
        except IntegrityError:
            if await self._already_processed(envelope):
                return Outcome.DUPLICATE  # another replica processed it at the same time
            raise
        if wrote and self._after_commit is not None:
            self._after_commit()  # the handler emitted events: publish them soon
        return Outcome.PROCESSED

    async def _already_processed(self, envelope: Envelope) -> bool:
        async with self._db.read_session() as session:
            return await holds(session, self.name, envelope)

    async def _dead_letter(
        self,
        record: ConsumerRecord[bytes, bytes],
        reason: str,
        detail: str,
        event_type: str = "?",
    ) -> None:
        await self._dead_letters.send(record, reason, detail, event_type)
        EVENTS_CONSUMED.labels(self.name, event_type, Outcome.DEAD_LETTERED).inc()


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """aiokafka awaits these before and after the group changes hands."""

    def __init__(self, owner: EventConsumer[Any]) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self._owner._on_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self._owner._on_assigned(set(assigned))


class _Stopped(Exception):
    """The service is stopping while a record waits for the database."""


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
