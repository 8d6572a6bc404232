"""The idempotent consumer on SQLite and PostgreSQL against a real broker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from prometheus_client import REGISTRY
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from shared.db import Database
from shared.devdb import asyncpg_dsn, create_database, drop_database
from shared.events import Envelope, Event, EventPayload
from shared.messaging.consumer import EventConsumer, Handler, Outcome
from shared.messaging.kafka import KafkaPublisher, ensure_topics
from shared.messaging.tables import outbox
from shared.uow import UnitOfWork
from tests.conftest import eventually
from tests.integration.messaging_support import (
    effects,
    fresh_event_type,
    messaging_database,
    plain_units,
    read_topic,
)


async def record_effect(event: Event[Any], uow: UnitOfWork) -> None:
    if event.payload.n == 13:
        raise RuntimeError("this handler cannot process 13")
    await uow.session.execute(
        effects.insert().values(event_id=str(event.envelope.id), n=event.payload.n)
    )


@asynccontextmanager
async def running_consumer(
    db: Database, broker: str, topic: str, handlers: Mapping[str, Handler[UnitOfWork]]
) -> AsyncIterator[EventConsumer[UnitOfWork]]:
    consumer = EventConsumer(
        name=f"{topic}.test-consumer",
        topics=[topic],
        handlers=handlers,
        unit_of_work=plain_units(db),
        db=db,
        bootstrap_servers=broker,
        session_timeout_ms=6000,
        max_attempts=3,
        backoff_seconds=0.01,
    )
    await ensure_topics(broker, [topic, consumer.dead_letter_topic], partitions=1)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        yield consumer
    finally:
        stop.set()
        await task


async def effects_for(db: Database, n: int) -> int:
    async with db.read_session() as s:
        return int(
            await s.scalar(sa.select(sa.func.count()).select_from(effects).where(effects.c.n == n))
            or 0
        )


def as_record(value: bytes, topic: str = "t", offset: int = 0) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic=topic,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=value,
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=len(value),
        headers=[],
    )


async def publish_raw(broker: str, topic: str, values: list[bytes]) -> None:
    publisher = await KafkaPublisher.connect(broker, client_id="test-producer")
    try:
        for value in values:
            await (await publisher.publish(topic, "same-key", value))
    finally:
        await publisher.close()


async def test_an_event_delivered_twice_is_processed_once(database_url: str, broker: str) -> None:
    said = fresh_event_type()
    topic = f"{said.event_type.split('.')[0]}.events"
    twice = Envelope.wrap(said(n=1), key="same-key", producer="test").to_bytes()
    sentinel = Envelope.wrap(said(n=2), key="same-key", producer="test").to_bytes()
    async with messaging_database(database_url) as db:
        await publish_raw(broker, topic, [twice, twice, sentinel])
        async with running_consumer(db, broker, topic, {said.event_type: record_effect}):
            await eventually(lambda: effects_for(db, 2), timeout=30)
        assert await effects_for(db, 1) == 1


async def test_an_unparseable_event_is_dead_lettered_and_the_consumer_carries_on(
    database_url: str, broker: str
) -> None:
    said = fresh_event_type()
    topic = f"{said.event_type.split('.')[0]}.events"
    wrong_shape = Envelope.wrap(said(n=5), key="same-key", producer="test").model_dump()
    wrong_shape["data"] = {"n": "not a number"}
    values = [
        b"{this is not json",
        json.dumps(wrong_shape, default=str).encode(),
        Envelope.wrap(said(n=7), key="same-key", producer="test").to_bytes(),
    ]
    async with messaging_database(database_url) as db:
        await publish_raw(broker, topic, values)
        async with running_consumer(db, broker, topic, {said.event_type: record_effect}) as c:
            await eventually(lambda: effects_for(db, 7), timeout=30)
            dead = await read_topic(broker, c.dead_letter_topic, expected=2)
    assert [r.value for r in dead] == values[:2]
    reasons = [dict(r.headers)["dlq.reason"] for r in dead]
    assert reasons == [b"undecodable", b"undecodable"]
    assert dict(dead[0].headers)["dlq.topic"] == topic.encode()
    assert await effects_for(db, 5) == 0


async def test_an_event_whose_handler_keeps_failing_is_dead_lettered_after_retries(
    database_url: str, broker: str
) -> None:
    said = fresh_event_type()
    topic = f"{said.event_type.split('.')[0]}.events"
    failing = Envelope.wrap(said(n=13), key="same-key", producer="test").to_bytes()
    after = Envelope.wrap(said(n=14), key="same-key", producer="test").to_bytes()
    async with messaging_database(database_url) as db:
        await publish_raw(broker, topic, [failing, after])
        async with running_consumer(db, broker, topic, {said.event_type: record_effect}) as c:
            await eventually(lambda: effects_for(db, 14), timeout=30)
            dead = await read_topic(broker, c.dead_letter_topic, expected=1)
    assert len(dead) == 1
    headers = dict(dead[0].headers)
    assert headers["dlq.reason"] == b"handler_failed"
    assert headers["dlq.detail"] == b"RuntimeError"


async def test_a_restarted_consumer_resumes_after_its_committed_offset(
    database_url: str, broker: str
) -> None:
    said = fresh_event_type()
    topic = f"{said.event_type.split('.')[0]}.events"
    first = [Envelope.wrap(said(n=20), key="same-key", producer="test").to_bytes()]
    second = [Envelope.wrap(said(n=21), key="same-key", producer="test").to_bytes()]
    handlers = {said.event_type: record_effect}
    async with messaging_database(database_url) as db:
        await publish_raw(broker, topic, first)
        async with running_consumer(db, broker, topic, handlers):
            await eventually(lambda: effects_for(db, 20), timeout=30)
        await publish_raw(broker, topic, second)
        async with running_consumer(db, broker, topic, handlers):
            await eventually(lambda: effects_for(db, 21), timeout=30)
        async with db.read_session() as s:
            total = await s.scalar(sa.select(sa.func.count()).select_from(effects))
    assert total == 2
    replayed = REGISTRY.get_sample_value(
        "signpost_events_consumed_total",
        {
            "consumer": f"{topic}.test-consumer",
            "event_type": said.event_type,
            "outcome": "duplicate",
        },
    )
    assert replayed is None, "the second run read the first event again"


async def test_a_database_outage_is_waited_out_not_dead_lettered(database_url: str) -> None:
    said = fresh_event_type()
    failures = iter([True, True, True, True, True, True, False])

    async def flaky(event: Event[Any], uow: UnitOfWork) -> None:
        if next(failures):
            raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection"))
        await record_effect(event, uow)

    record = as_record(Envelope.wrap(said(n=31), key="k", producer="test").to_bytes())
    async with messaging_database(database_url) as db:
        consumer = EventConsumer(
            name="outage-test",
            topics=["t"],
            handlers={said.event_type: flaky},
            unit_of_work=plain_units(db),
            db=db,
            bootstrap_servers="127.0.0.1:1",
            max_attempts=2,
            backoff_seconds=0.001,
        )
        assert await consumer.process(record) is Outcome.PROCESSED
        assert await effects_for(db, 31) == 1


async def test_what_a_handler_emits_through_its_unit_of_work_commits_with_the_inbox_row(
    database_url: str,
) -> None:
    said = fresh_event_type()
    woken: list[str] = []
    attempts = 0

    async def forward(event: Event[Any], uow: UnitOfWork) -> None:
        nonlocal attempts
        attempts += 1
        await uow.emit(said(n=100 + attempts), key="k")
        if attempts == 1:
            raise RuntimeError("fails after emitting, the first time")
        await record_effect(event, uow)
        uow.after_commit(lambda: woken.append("handler"))

    record = as_record(Envelope.wrap(said(n=35), key="k", producer="test").to_bytes())
    async with messaging_database(database_url) as db:
        consumer = EventConsumer(
            name="emit-test",
            topics=["t"],
            handlers={said.event_type: forward},
            unit_of_work=plain_units(db),
            db=db,
            bootstrap_servers="127.0.0.1:1",
            max_attempts=3,
            backoff_seconds=0.001,
            after_commit=lambda: woken.append("relay"),
        )
        assert await consumer.process(record) is Outcome.PROCESSED
        assert sorted(woken) == ["handler", "relay"], "the relay is nudged after the commit"
        assert await consumer.process(record) is Outcome.DUPLICATE
        assert await effects_for(db, 35) == 1
        async with db.read_session() as s:
            emitted = (await s.execute(sa.select(outbox.c.body))).scalars().all()
            with pytest.raises(RuntimeError):  # the consumer commits, not the handler
                await plain_units(db)(s).commit()
    assert [json.loads(body)["data"]["n"] for body in emitted] == [102], (
        "what the failed attempt emitted was rolled back with it"
    )


async def test_an_outside_systems_timeout_is_dead_lettered_after_its_attempts_not_waited_out(
    database_url: str, broker: str
) -> None:
    said = fresh_event_type()
    calls = 0

    async def send_sms(event: Event[Any], uow: UnitOfWork) -> None:
        nonlocal calls
        calls += 1
        raise TimeoutError("the SMS gateway did not answer")

    record = as_record(Envelope.wrap(said(n=32), key="k", producer="test").to_bytes())
    async with messaging_database(database_url) as db:
        consumer = EventConsumer(
            name=f"timeout-test-{said.event_type}",
            topics=["t"],
            handlers={said.event_type: send_sms},
            unit_of_work=plain_units(db),
            db=db,
            bootstrap_servers=broker,
            max_attempts=3,
            backoff_seconds=0.01,
        )
        await ensure_topics(broker, [consumer.dead_letter_topic], partitions=1)
        try:
            outcome = await asyncio.wait_for(consumer.process(record), timeout=30)
        finally:
            await consumer.close()
        dead = await read_topic(broker, consumer.dead_letter_topic, expected=1)
    assert outcome is Outcome.DEAD_LETTERED
    assert calls == 3
    assert dict(dead[0].headers)["dlq.detail"] == b"TimeoutError"


class _Deadlock(Exception):
    sqlstate = "40P01"


async def test_a_deadlock_is_retried_without_spending_the_handlers_attempts(
    database_url: str,
) -> None:
    said = fresh_event_type()
    deadlocks = iter([True] * 6 + [False])

    async def clashing(event: Event[Any], uow: UnitOfWork) -> None:
        if next(deadlocks):
            raise DBAPIError("INSERT", {}, _Deadlock("deadlock detected"))
        await record_effect(event, uow)

    record = as_record(Envelope.wrap(said(n=33), key="k", producer="test").to_bytes())
    async with messaging_database(database_url) as db:
        consumer = EventConsumer(
            name="deadlock-test",
            topics=["t"],
            handlers={said.event_type: clashing},
            unit_of_work=plain_units(db),
            db=db,
            bootstrap_servers="127.0.0.1:1",
            max_attempts=2,
            backoff_seconds=0.001,
        )
        assert await consumer.process(record) is Outcome.PROCESSED
        assert await effects_for(db, 33) == 1


async def committed_offset(broker: str, group_id: str, topic: str) -> int | None:
    reader = AIOKafkaConsumer(bootstrap_servers=broker, group_id=group_id, enable_auto_commit=False)
    await reader.start()
    try:
        offset: int | None = await reader.committed(TopicPartition(topic, 0))
        return offset
    finally:
        await reader.stop()


def gauge(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def test_a_newer_version_pauses_its_partition_until_a_build_that_knows_it_takes_over(
    database_url: str, broker: str
) -> None:
    said = fresh_event_type()
    topic = f"{said.event_type.split('.')[0]}.events"
    newer = json.loads(Envelope.wrap(said(n=41), key="same-key", producer="test").to_bytes())
    newer["version"] = 2
    newer["data"]["colour"] = "blue"
    values = [
        Envelope.wrap(said(n=40), key="same-key", producer="test").to_bytes(),
        json.dumps(newer).encode(),
        Envelope.wrap(said(n=42), key="same-key", producer="test").to_bytes(),
    ]
    handlers = {said.event_type: record_effect}
    await ensure_topics(broker, [topic], partitions=1)
    async with messaging_database(database_url) as db:
        await publish_raw(broker, topic, values)
        async with running_consumer(db, broker, topic, handlers) as c:
            await eventually(lambda: effects_for(db, 40), timeout=30)
            paused = {"consumer": c.name, "topic": topic}
            await eventually(
                lambda: gauge("signpost_consumer_paused_partitions", **paused) == 1, timeout=30
            )
            lag = {"consumer": c.name, "topic": topic, "partition": "0"}
            await eventually(lambda: gauge("signpost_consumer_lag", **lag) == 2, timeout=30)
            assert await effects_for(db, 42) == 0, "nothing after the paused event is applied"
        assert await committed_offset(broker, c.group_id, topic) == 1
        assert gauge("signpost_dead_letters_total", consumer=c.name) is None
        assert await effects_for(db, 41) == 0

        # The newer build knows version 2 and carries on from the paused event.
        type(
            f"{said.__name__}_v2",
            (EventPayload,),
            {
                "__annotations__": {"n": int, "colour": str},
                "event_type": said.event_type,
                "event_version": 2,
                "__module__": __name__,
            },
        )
        async with running_consumer(db, broker, topic, handlers) as c:
            await eventually(lambda: effects_for(db, 42), timeout=30)
            await eventually(lambda: gauge("signpost_consumer_lag", **lag) == 0, timeout=30)
            assert gauge("signpost_consumer_paused_partitions", **paused) == 0
        assert await effects_for(db, 41) == 1
        assert await effects_for(db, 40) == 1


async def test_a_database_that_refuses_every_connection_is_waited_for_not_blamed_on_the_event(
    postgres_server: str,
) -> None:
    # PostgreSQL answers, but the service's database is missing (dropped, or not yet
    # restored): every event would fail alike, so none is dead-lettered.
    said = fresh_event_type()
    url = await create_database(postgres_server, "signpost_test")
    await drop_database(postgres_server, url)
    db = Database(url)
    pings = 0
    real_ping = db.ping

    async def counted_ping() -> None:
        nonlocal pings
        pings += 1
        await real_ping()

    db.ping = counted_ping  # type: ignore[method-assign]
    consumer = EventConsumer(
        name="missing-database-test",
        topics=["t"],
        handlers={said.event_type: record_effect},
        unit_of_work=plain_units(db),
        db=db,
        bootstrap_servers="127.0.0.1:1",
        max_attempts=2,
        backoff_seconds=0.001,
    )
    record = as_record(Envelope.wrap(said(n=34), key="k", producer="test").to_bytes())
    try:
        processing = asyncio.create_task(consumer.process(record))
        await eventually(lambda: pings >= 3, timeout=30)
        assert not processing.done()
        # The database comes back whole: built under another name, then renamed.
        restored = await create_database(postgres_server, "signpost_test")
        async with messaging_database(restored):
            pass
        conn = await asyncpg.connect(asyncpg_dsn(postgres_server))
        try:
            await conn.execute(
                f'ALTER DATABASE "{make_url(restored).database}" '
                f'RENAME TO "{make_url(url).database}"'
            )
        finally:
            await conn.close()
        assert await asyncio.wait_for(processing, timeout=30) is Outcome.PROCESSED
        assert await effects_for(db, 34) == 1
    finally:
        await db.dispose()
        await drop_database(postgres_server, url)
