"""A service's messaging at run time: the outbox relay and its consumers as background tasks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from shared.db import Database
from shared.logging import get_logger
from shared.messaging.claims import RetryPolicy
from shared.messaging.consumer import EventConsumer, Handler, UnitOfWorkFactory
from shared.messaging.kafka import KafkaPublisher, TopicSetupError, ensure_topics, event_topics
from shared.messaging.outbox import OutboxRelay
from shared.settings import Settings

log = get_logger(__name__)

U = TypeVar("U")


class Messaging:
    def __init__(self, settings: Settings, db: Database) -> None:
        self._settings = settings
        self._db = db
        self._publisher: KafkaPublisher | None = None
        self._connect_lock = asyncio.Lock()
        self._topics_ready = False
        self.consumers: list[EventConsumer[Any]] = []
        self.relay = OutboxRelay(
            db,
            self._fresh_publisher,
            service=settings.service,
            poll_seconds=settings.outbox_poll_seconds,
            retry=RetryPolicy(max_attempts=settings.outbox_max_attempts),
        )
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def add_consumer(
        self,
        name: str,
        topics: Sequence[str],
        handlers: Mapping[str, Handler[U]],
        unit_of_work: UnitOfWorkFactory[U],
    ) -> EventConsumer[U]:
        """A consumer whose handlers each get the event and `unit_of_work(session)`: the
        service's unit of work in the consumer's transaction (see `UnitOfWork.within`)."""
        consumer = EventConsumer(
            name=name,
            topics=topics,
            handlers=handlers,
            unit_of_work=unit_of_work,
            db=self._db,
            bootstrap_servers=self._settings.kafka_bootstrap_servers,
            session_timeout_ms=self._settings.kafka_session_timeout_ms,
            after_commit=self.relay.wake,
            group_id=f"{self._settings.kafka_group_prefix}{name}",
            idempotent_producer=self._settings.kafka_enable_idempotence,
        )
        self.consumers.append(consumer)
        return consumer

    async def start(self, topic_timeout: float = 10.0) -> None:
        """Create the topics, then start the relay and the consumers as background tasks.

        A broker that refuses a topic (`TopicSetupError`) stops start-up: that is a fault of
        configuration (e.g. a replication factor the cluster cannot meet) and waiting will not
        mend it. A broker that does not answer does not stop it: the outbox keeps events and
        the consumers keep trying until it returns.
        """
        try:
            await asyncio.wait_for(self._ensure_topics(), topic_timeout)
        except TopicSetupError:
            raise
        except Exception as exc:
            log.warning("kafka.topics_unavailable", error=type(exc).__name__)
        self._tasks.append(asyncio.create_task(self.relay.run(self._stop), name="outbox-relay"))
        for consumer in self.consumers:
            self._tasks.append(
                asyncio.create_task(self._run_consumer(consumer), name=consumer.name)
            )
        for task in self._tasks:
            task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if self._stop.is_set():
            return
        error = None if task.cancelled() else task.exception()
        log.error("messaging.task_ended", task=task.get_name(), error=repr(error))

    async def _run_consumer(self, consumer: EventConsumer[Any]) -> None:
        while not self._stop.is_set():
            try:
                await self._ensure_topics()
                break
            except TopicSetupError as exc:
                log.error("kafka.topics_refused", detail=str(exc))
                raise
            except Exception as exc:
                log.warning("kafka.topics_unavailable", error=type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 1.0)
        await consumer.run(self._stop)

    async def stop(self, timeout: float = 10.0) -> None:
        """Let in-flight work finish, then close connections."""
        self._stop.set()
        if self._tasks:
            done, pending = await asyncio.wait(self._tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    log.error(
                        "messaging.task_failed", task=task.get_name(), error=repr(task.exception())
                    )
        if self._publisher is not None:
            await self._publisher.close()
            self._publisher = None

    def failed_tasks(self) -> list[str]:
        """Background tasks (relay, consumers) that have ended while the service runs on."""
        if self._stop.is_set():
            return []
        return [task.get_name() for task in self._tasks if task.done()]

    async def broker_ok(self) -> bool:
        try:
            publisher = await asyncio.wait_for(self._current_publisher(), 3.0)
        except Exception:
            return False
        return await publisher.healthy()

    async def _current_publisher(self) -> KafkaPublisher:
        async with self._connect_lock:
            if self._publisher is None:
                self._publisher = await KafkaPublisher.connect(
                    self._settings.kafka_bootstrap_servers,
                    client_id=self._settings.service,
                    idempotent=self._settings.kafka_enable_idempotence,
                )
            return self._publisher

    async def _fresh_publisher(self) -> KafkaPublisher:
        """The relay asks for a publisher after a failure: drop the old connection first."""
        async with self._connect_lock:
            if self._publisher is not None:
                old, self._publisher = self._publisher, None
                with contextlib.suppress(Exception):
                    await old.close()
        await self._ensure_topics()
        return await self._current_publisher()

    def topics(self) -> list[str]:
        """The topics this service needs: every registered event type's, and its dead letters."""
        return event_topics() + [c.dead_letter_topic for c in self.consumers]

    async def _ensure_topics(self) -> None:
        if self._topics_ready:
            return
        await ensure_topics(
            self._settings.kafka_bootstrap_servers,
            self.topics(),
            partitions=self._settings.kafka_topic_partitions,
            replication_factor=self._settings.kafka_replication_factor,
        )
        self._topics_ready = True
