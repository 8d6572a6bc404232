"""The relay holds no database write lock while it waits for the broker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable

import pytest
from aiokafka.errors import KafkaError

from shared.db import Database
from shared.devbroker import LocalBroker, free_port
from shared.messaging.kafka import KafkaPublisher, ensure_topics
from shared.messaging.outbox import OutboxRelay
from tests.conftest import eventually
from tests.integration.messaging_support import effects, fresh_event_type, messaging_database
from tests.integration.test_outbox import unpublished, write_events


class Watched:
    """A real Kafka publisher that says when the relay has started sending."""

    def __init__(self, inner: KafkaPublisher) -> None:
        self.inner = inner
        self.sending = asyncio.Event()

    async def publish(self, topic: str, key: str, value: bytes) -> Awaitable[object]:
        self.sending.set()
        return await self.inner.publish(topic, key, value)

    async def close(self) -> None:
        await self.inner.close()


async def timed_write(db: Database) -> float:
    started = time.perf_counter()
    async with db.session() as session:
        await session.execute(effects.insert().values(event_id="request", n=1))
    return time.perf_counter() - started


async def test_a_write_does_not_wait_while_the_relay_waits_for_an_absent_broker(
    database_url: str,
) -> None:
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    said = fresh_event_type()
    topic = f"{said.event_type.split('.')[0]}.events"
    publishers: list[Watched] = []

    async def connect() -> Watched:
        await ensure_topics(bootstrap, [topic])
        publishers.append(Watched(await KafkaPublisher.connect(bootstrap, client_id="test")))
        return publishers[-1]

    broker = LocalBroker(port=port)
    broker.start()
    async with messaging_database(database_url) as db:
        relay = OutboxRelay(db, connect, service="test")
        try:
            await write_events(db, relay, said, 1)
            assert await relay.publish_pending() == 1
            broker.stop()  # connected, then the broker goes away mid-conversation
            await write_events(db, relay, said, 1)
            publishers[-1].sending.clear()
            publishing = asyncio.create_task(relay.publish_pending())
            await eventually(publishers[-1].sending.is_set, timeout=10)
            waited = await timed_write(db)
            print(f"\na write during a publish to an absent broker waited {waited * 1000:.1f} ms")
            with pytest.raises(KafkaError):
                await publishing
        finally:
            broker.stop()
            for publisher in publishers:
                await publisher.close()
        assert waited < 1.0
        assert await unpublished(db) == 1
