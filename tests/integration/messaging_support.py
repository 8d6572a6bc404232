"""Helpers for messaging tests: a throwaway event type per test and Kafka reading."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.events import EventPayload
from shared.messaging.tables import metadata as messaging_metadata
from shared.uow import UnitOfWork

effects_metadata = sa.MetaData()
effects = sa.Table(
    "effects",
    effects_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("n", sa.Integer, nullable=False),
)


def plain_units(db: Database) -> Callable[[AsyncSession], UnitOfWork]:
    """The consumer's factory for a unit of work with no repositories: the tests' handlers
    write their effects through its `session`."""
    return lambda session: UnitOfWork(db, producer="test").within(session)


def fresh_event_type() -> type[EventPayload]:
    """A payload class on its own topic, so tests sharing one broker never see each other."""
    owner = f"t{uuid.uuid4().hex[:10]}"
    namespace = {
        "__annotations__": {"n": int},
        "event_type": f"{owner}.echo.said",
        "__module__": __name__,
    }
    return type(f"Said_{owner}", (EventPayload,), namespace)


@asynccontextmanager
async def messaging_database(url: str) -> AsyncIterator[Database]:
    db = Database(url)
    async with db.connect() as conn:
        await conn.run_sync(messaging_metadata.create_all)
        await conn.run_sync(effects_metadata.create_all)
    try:
        yield db
    finally:
        await db.dispose()


async def read_topic(
    bootstrap: str, topic: str, expected: int, timeout_ms: int = 15000
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read every record of `topic` from the beginning (no consumer group) until `expected`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[ConsumerRecord[bytes, bytes]] = []
        waited = 0
        while len(records) < expected and waited < timeout_ms:
            batch = await consumer.getmany(timeout_ms=200)
            waited += 200
            for recs in batch.values():
                records.extend(recs)
        return records
    finally:
        await consumer.stop()
