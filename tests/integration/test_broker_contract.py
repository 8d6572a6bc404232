"""The messaging contract on two Kafka-protocol implementations: the local Tansu broker and
noida-db, so that behaviour only one of them tolerates is caught (Apache Kafka is the third,
through KAFKA_BOOTSTRAP_SERVERS)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiokafka.admin import AIOKafkaAdminClient

from services.notifications.settings import NotificationsSettings
from shared.db import Database
from shared.events import Event
from shared.events.envelope import registry, topic_for
from shared.messaging.consumer import EventConsumer
from shared.messaging.kafka import KafkaPublisher, TopicSetupError, ensure_topics
from shared.messaging.outbox import OutboxRelay
from shared.messaging.runtime import Messaging
from shared.uow import UnitOfWork
from tests.conftest import eventually
from tests.integration.brokers import NoidaBroker
from tests.integration.messaging_support import (
    effects,
    fresh_event_type,
    messaging_database,
    plain_units,
    read_topic,
)
from tests.support import settings_for


@dataclass(frozen=True)
class Kafka:
    name: str
    bootstrap: str
    idempotent: bool  # whether this implementation has the idempotent producer


@pytest.fixture(scope="module")
def noida(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kafka]:
    server = NoidaBroker(tmp_path_factory.mktemp("noida"))
    try:
        yield Kafka("noida-db", server.start(), idempotent=True)
    finally:
        server.stop()


@pytest.fixture(scope="module", params=["tansu", "noida-db"])
def kafka(request: pytest.FixtureRequest, broker: str) -> Kafka:
    if request.param == "tansu":
        return Kafka("tansu", broker, idempotent=False)
    found: Kafka = request.getfixturevalue("noida")
    return found


@pytest.fixture
async def outbox_db(tmp_path: Path) -> AsyncIterator[Database]:
    async with messaging_database(f"sqlite+aiosqlite:///{tmp_path / 'contract.db'}") as db:
        yield db


def _settings(kafka: Kafka, tmp_path: Path, **extra: str) -> NotificationsSettings:
    return settings_for(
        NotificationsSettings,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'contract.db'}",
        broker=kafka.bootstrap,
        data_dir=tmp_path,
        KAFKA_ENABLE_IDEMPOTENCE=str(kafka.idempotent).lower(),
        **extra,
    )


async def _topics(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def test_every_registered_event_type_has_its_topic_created(
    kafka: Kafka, outbox_db: Database, tmp_path: Path
) -> None:
    messaging = Messaging(_settings(kafka, tmp_path), outbox_db)
    consumer = messaging.add_consumer(
        f"contract-{uuid.uuid4().hex[:8]}",
        ["booking.events"],
        {},
        unit_of_work=plain_units(outbox_db),
    )
    await messaging.start()
    await messaging.stop()
    wanted = {topic_for(event_type) for event_type, _ in registry.types()}
    assert {"booking.events", "directory.events", "placements.events"} <= wanted
    assert wanted | {consumer.dead_letter_topic} <= await _topics(kafka.bootstrap)


async def test_a_topic_the_broker_refuses_stops_start_up_naming_it_and_the_reason(
    noida: Kafka, outbox_db: Database, tmp_path: Path
) -> None:
    # noida-db has one broker, so it refuses three replicas the way a small Kafka cluster
    # would (the local Tansu broker accepts any replication factor, which is why this runs
    # here).
    settings = _settings(noida, tmp_path, KAFKA_REPLICATION_FACTOR="3")
    messaging = Messaging(settings, outbox_db)
    consumer = messaging.add_consumer(
        f"contract-{uuid.uuid4().hex[:8]}",
        ["booking.events"],
        {},
        unit_of_work=plain_units(outbox_db),
    )
    with pytest.raises(TopicSetupError) as refused:
        await messaging.start()
    message = str(refused.value)
    assert consumer.dead_letter_topic in message
    assert "InvalidReplicationFactorError" in message
    assert "replication factor" in message.lower()
    assert consumer.dead_letter_topic not in await _topics(noida.bootstrap)


async def test_the_producer_writes_each_record_once_with_the_brokers_idempotence(
    kafka: Kafka,
) -> None:
    topic = f"contract-{uuid.uuid4().hex[:8]}.events"
    await ensure_topics(kafka.bootstrap, [topic], partitions=1)
    publisher = await KafkaPublisher.connect(
        kafka.bootstrap, client_id="contract", idempotent=kafka.idempotent
    )
    try:
        for n in range(10):
            await (await publisher.publish(topic, "k", str(n).encode()))
    finally:
        await publisher.close()
    records = await read_topic(kafka.bootstrap, topic, expected=10)
    assert [r.value for r in records] == [str(n).encode() for n in range(10)]


async def test_outbox_to_consumer_applies_every_event_once_in_key_order(
    kafka: Kafka, outbox_db: Database
) -> None:
    said = fresh_event_type()
    topic = topic_for(said.event_type)
    consumer = EventConsumer(
        name=f"{topic}.contract",
        topics=[topic],
        handlers={said.event_type: _record_effect},
        unit_of_work=plain_units(outbox_db),
        db=outbox_db,
        bootstrap_servers=kafka.bootstrap,
        session_timeout_ms=6000,
    )
    await ensure_topics(kafka.bootstrap, [topic, consumer.dead_letter_topic], partitions=3)

    async def connect() -> KafkaPublisher:
        return await KafkaPublisher.connect(
            kafka.bootstrap, client_id="contract-relay", idempotent=kafka.idempotent
        )

    relay = OutboxRelay(outbox_db, connect, service="contract", poll_seconds=0.1)
    keys = ["school-a", "school-b", "school-c"]
    for n in range(30):
        async with UnitOfWork(outbox_db, producer="test", on_commit=relay.wake) as uow:
            await uow.emit(said(n=n), key=keys[n % 3])
            await uow.commit()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(relay.run(stop)), asyncio.create_task(consumer.run(stop))]
    try:
        await eventually(lambda: _effect_count(outbox_db, 30), timeout=30)
        # A second delivery of an event already applied (a relay that crashed before marking
        # its batch) changes nothing.
        async with outbox_db.read_session() as s:
            body = (await s.execute(sa.text("SELECT body FROM outbox LIMIT 1"))).scalar_one()
        publisher = await connect()
        try:
            await (await publisher.publish(topic, keys[0], body.encode()))
        finally:
            await publisher.close()
        sentinel = said(n=30)
        async with UnitOfWork(outbox_db, producer="test", on_commit=relay.wake) as uow:
            await uow.emit(sentinel, key=keys[0])
            await uow.commit()
        await eventually(lambda: _effect_count(outbox_db, 31), timeout=30)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    async with outbox_db.read_session() as s:
        rows = (await s.execute(sa.select(effects.c.n).order_by(effects.c.id))).scalars().all()
    assert sorted(rows) == list(range(31))
    for key_index in range(3):
        applied = [n for n in rows if n % 3 == key_index]
        assert applied == sorted(applied), f"events of {keys[key_index]} applied out of order"


async def _record_effect(event: Event[Any], uow: UnitOfWork) -> None:
    await uow.session.execute(
        effects.insert().values(event_id=str(event.envelope.id), n=event.payload.n)
    )


async def _effect_count(db: Database, expected: int) -> bool:
    async with db.read_session() as s:
        count = await s.scalar(sa.select(sa.func.count()).select_from(effects))
    assert (count or 0) <= expected, "an event was applied twice"
    return count == expected
