"""Kafka adapters (aiokafka): a publisher for the relay and dead letters, topic set-up.

Only plain Kafka protocol features are used (no idempotent producer, no transactions, no
time-based offset lookups), so the same code runs on Apache Kafka and the local broker.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from shared.logging import get_logger

log = get_logger(__name__)

SERVICE_TOPICS = ("booking.events", "directory.events", "placements.events", "notifications.events")


class KafkaPublisher:
    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer

    @classmethod
    async def connect(cls, bootstrap_servers: str, *, client_id: str) -> KafkaPublisher:
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            acks="all",
            enable_idempotence=False,
            linger_ms=2,
            request_timeout_ms=10000,
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        return cls(producer)

    async def publish(
        self, topic: str, key: str, value: bytes, headers: list[tuple[str, bytes]] | None = None
    ) -> Awaitable[object]:
        delivery: Awaitable[object] = await self._producer.send(
            topic, value=value, key=key.encode(), headers=headers
        )
        return delivery

    async def healthy(self, timeout: float = 2.0) -> bool:
        try:
            return bool(
                await asyncio.wait_for(self._producer.client.force_metadata_update(), timeout)
            )
        except (TimeoutError, KafkaError, OSError):
            return False

    async def close(self) -> None:
        await self._producer.stop()


async def ensure_topics(
    bootstrap_servers: str,
    topics: Iterable[str],
    *,
    partitions: int = 3,
    replication_factor: int = 1,
) -> None:
    """Create any missing topics. Safe to call from every replica at start-up."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in dict.fromkeys(topics) if t not in existing]
        if not missing:
            return
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(
                [NewTopic(t, partitions, replication_factor) for t in missing]
            )
        log.info("kafka.topics_created", topics=missing)
    finally:
        await admin.close()
