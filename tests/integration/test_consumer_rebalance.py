"""Two consumers in one group on the real broker: rebalances lose nothing, double nothing."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import sqlalchemy as sa

from shared.db import Database
from shared.events import Envelope, Event
from shared.messaging.consumer import EventConsumer, Handler
from shared.messaging.kafka import KafkaPublisher, ensure_topics
from shared.messaging.tables import inbox
from shared.uow import UnitOfWork
from tests.conftest import eventually
from tests.integration.messaging_support import (
    effects,
    fresh_event_type,
    messaging_database,
    plain_units,
)

EVENTS = 300
# The stream arrives in three parts: before the second member joins, once it has its
# partitions, and after the first has left; so each change of hands happens mid-stream
# whatever the speed of the machine.
PARTS = (range(0, 100), range(100, 200), range(200, EVENTS))


async def applied_once(db: Database) -> int:
    async with db.read_session() as s:
        return int(await s.scalar(sa.select(sa.func.count(sa.distinct(effects.c.event_id)))) or 0)


async def test_a_consumer_joining_and_another_leaving_mid_stream_lose_and_double_nothing(
    database_url: str, broker: str
) -> None:
    said = fresh_event_type()
    topic = f"{said.event_type.split('.')[0]}.events"
    name = f"{topic}.rebalance-test"
    await ensure_topics(broker, [topic, f"{name}.dlq"], partitions=4)
    applied: Counter[str] = Counter()

    def applying(member: str) -> Handler[UnitOfWork]:
        async def handler(event: Event[Any], uow: UnitOfWork) -> None:
            await uow.session.execute(
                effects.insert().values(event_id=str(event.envelope.id), n=event.payload.n)
            )
            applied[member] += 1

        return handler

    def member(label: str, db: Database) -> EventConsumer[UnitOfWork]:
        return EventConsumer(
            name=name,
            topics=[topic],
            handlers={said.event_type: applying(label)},
            unit_of_work=plain_units(db),
            db=db,
            bootstrap_servers=broker,
            session_timeout_ms=3000,
            backoff_seconds=0.01,
        )

    async def publish(numbers: range) -> None:
        publisher = await KafkaPublisher.connect(broker, client_id="rebalance-test")
        try:
            for n in numbers:
                event = Envelope.wrap(said(n=n), key=f"key-{n % 16}", producer="test")
                await publisher.publish(topic, event.key, event.to_bytes())
        finally:
            await publisher.close()

    def has_partitions(consumer: EventConsumer[UnitOfWork]) -> bool:
        kafka = consumer._kafka
        return kafka is not None and bool(kafka.assignment())

    async with messaging_database(database_url) as db:
        first, second = member("first", db), member("second", db)
        stop_first, stop_second = asyncio.Event(), asyncio.Event()
        await publish(PARTS[0])
        running_first = asyncio.create_task(first.run(stop_first))
        await eventually(lambda: applied["first"] >= 20, timeout=30)
        running_second = asyncio.create_task(second.run(stop_second))
        try:
            await eventually(lambda: has_partitions(second), timeout=30)
            await publish(PARTS[1])
            await eventually(lambda: applied["second"] >= 10, timeout=30)
            assert await applied_once(db) < EVENTS, "the second joined after the stream ended"
            stop_first.set()
            await running_first
            assert await applied_once(db) < EVENTS, "the first left after the stream ended"
            await publish(PARTS[2])

            async def all_applied() -> bool:
                return await applied_once(db) == EVENTS

            await eventually(all_applied, timeout=60)
        finally:
            stop_first.set()
            stop_second.set()
            await asyncio.gather(running_first, running_second)
        async with db.read_session() as s:
            rows = await s.scalar(sa.select(sa.func.count()).select_from(effects))
            inbox_rows = await s.scalar(
                sa.select(sa.func.count()).select_from(inbox).where(inbox.c.consumer == name)
            )
    assert rows == EVENTS, "an event's side effect was applied twice"
    assert inbox_rows == EVENTS
    assert applied["first"] + applied["second"] == EVENTS
    assert (first.restarts, second.restarts) == (0, 0), "a rebalance tore a consumer down"
