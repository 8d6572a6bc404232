"""Kafka adapters (aiokafka): a publisher for the relay and dead letters, topic set-up.

Only plain Kafka protocol features are relied on (no transactions, no time-based offset
lookups), so the same code runs on Apache Kafka and the local broker. The idempotent producer
is a setting: on for Apache Kafka, off for a broker that lacks it (the local one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from shared.events.envelope import registry, topic_for
from shared.logging import get_logger

log = get_logger(__name__)


class TopicSetupError(RuntimeError):
    """The broker refused to create a topic: a fault of configuration, not an outage."""


def event_topics() -> list[str]:
    """Every topic a registered event type is published on (`topic_for` of each type)."""
    from shared.events import catalogue  # noqa: F401  (registers every payload schema)

    return sorted({topic_for(event_type) for event_type, _version in registry.types()})


class KafkaPublisher:
    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer

    @classmethod
    async def connect(
        cls, bootstrap_servers: str, *, client_id: str, idempotent: bool = False
    ) -> KafkaPublisher:
        """A started producer with `acks=all`; `idempotent` turns on the idempotent producer,
        so a retried send cannot write a record twice (the broker must support it)."""
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            acks="all",
            enable_idempotence=idempotent,
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
    """Create any missing topics. Safe to call from every replica at start-up.

    The broker answers a create request with an error code per topic rather than failing the
    request, so each code is checked: "already exists" (another replica won the race) is
    fine; anything else raises `TopicSetupError` naming the topic and the broker's reason.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in dict.fromkeys(topics) if t not in existing]
        if not missing:
            return
        response = await admin.create_topics(
            [NewTopic(t, partitions, replication_factor) for t in missing]
        )
        refused = refused_topics(response.topic_errors)
        if refused:
            raise TopicSetupError("the broker refused to create " + "; ".join(refused))
        log.info("kafka.topics_created", topics=missing)
    finally:
        await admin.close()


def refused_topics(topic_errors: Sequence[Sequence[Any]]) -> list[str]:
    """`topic: reason` for each entry of a CreateTopics response that is a real failure.

    Entries are `(topic, error_code)` or `(topic, error_code, error_message)` by version.
    """
    refused = []
    for entry in topic_errors:
        topic, code = entry[0], entry[1]
        if code in (0, TopicAlreadyExistsError.errno):
            continue
        message = entry[2] if len(entry) > 2 and entry[2] else None
        error = for_code(code)
        refused.append(f"topic {topic!r}: {error.__name__} ({message or error.description})")
    return refused
