"""The outbox relay on SQLite and PostgreSQL against a real broker."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from shared.db import Database
from shared.devbroker import LocalBroker, free_port
from shared.events import decode
from shared.messaging.kafka import KafkaPublisher, ensure_topics
from shared.messaging.outbox import OutboxRelay
from shared.messaging.tables import outbox
from shared.uow import UnitOfWork
from tests.conftest import eventually
from tests.integration.messaging_support import fresh_event_type, messaging_database, read_topic


def relay_for(db: Database, bootstrap: str, topic: str) -> OutboxRelay:
    async def connect() -> KafkaPublisher:
        await ensure_topics(bootstrap, [topic])
        return await KafkaPublisher.connect(bootstrap, client_id="test-relay")

    return OutboxRelay(db, connect, service="test", poll_seconds=0.1, max_backoff_seconds=0.5)


async def unpublished(db: Database) -> int:
    async with db.read_session() as s:
        count = await s.scalar(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        )
    return int(count or 0)


async def write_events(
    db: Database, relay: OutboxRelay, payload_type: type, count: int
) -> list[str]:
    ids = []
    for n in range(count):
        async with UnitOfWork(db, producer="test", on_commit=relay.wake) as uow:
            envelope = await uow.emit(payload_type(n=n), key="aggregate-1")
            await uow.commit()
        ids.append(str(envelope.id))
    return ids


async def test_events_written_while_broker_is_down_are_published_when_it_returns(
    database_url: str,
) -> None:
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    said = fresh_event_type()
    topic = f"{said.event_type.split('.')[0]}.events"
    async with messaging_database(database_url) as db:
        relay = relay_for(db, bootstrap, topic)
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        try:
            ids = await write_events(db, relay, said, 5)
            await eventually(lambda: relay.failures >= 2, timeout=15)
            assert await unpublished(db) == 5

            broker = LocalBroker(port=port)
            broker.start()
            try:
                await eventually(lambda: _none_left(db), timeout=30)
                records = await read_topic(bootstrap, topic, expected=5)
            finally:
                broker.stop()
        finally:
            stop.set()
            await task
    published = [str(decode(r.value)[0].id) for r in records]
    assert sorted(published) == sorted(ids)


async def _none_left(db: Database) -> bool:
    return await unpublished(db) == 0


async def test_relay_publishes_each_event_once_in_order_for_its_key(
    database_url: str, broker: str
) -> None:
    said = fresh_event_type()
    topic = f"{said.event_type.split('.')[0]}.events"
    async with messaging_database(database_url) as db:
        relay = relay_for(db, broker, topic)
        ids = await write_events(db, relay, said, 20)
        published = 0
        while (n := await relay.publish_pending()) > 0:
            published += n
        assert published == 20
        assert await relay.publish_pending() == 0
        records = await read_topic(broker, topic, expected=20)
    assert [str(decode(r.value)[0].id) for r in records] == ids
    assert {r.key for r in records} == {b"aggregate-1"}


async def test_two_relays_sharing_an_outbox_publish_every_event_once_in_order(
    database_url: str, broker: str
) -> None:
    said = fresh_event_type()
    topic = f"{said.event_type.split('.')[0]}.events"
    async with messaging_database(database_url) as db:
        first, second = relay_for(db, broker, topic), relay_for(db, broker, topic)
        ids = await write_events(db, first, said, 60)
        first._batch_size = second._batch_size = 7

        async def drain(relay: OutboxRelay) -> int:
            total = 0
            while (n := await relay.publish_pending()) > 0:
                total += n
            return total

        counts = await asyncio.gather(drain(first), drain(second))
        assert sum(counts) == 60
        # Ask for one more than was written: only 60 ever arrive.
        records = await read_topic(broker, topic, expected=61, timeout_ms=3000)
    assert [str(decode(r.value)[0].id) for r in records] == ids


async def test_an_event_committed_during_a_publishing_pass_goes_out_without_waiting_a_poll(
    database_url: str,
) -> None:
    # The commit happens while the relay is publishing, which no transaction of its spans.
    said = fresh_event_type()
    published: list[bytes] = []
    async with messaging_database(database_url) as db:
        relay: OutboxRelay

        class Recording:
            """Records what is published; the first time, another event commits meanwhile."""

            async def publish(self, topic: str, key: str, value: bytes) -> asyncio.Future[None]:
                if not published:
                    await write_events(db, relay, said, 1)
                published.append(value)
                done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                done.set_result(None)
                return done

        async def connect() -> Recording:
            return Recording()

        # A poll far longer than the test may take: only the wake-up can publish the second.
        relay = OutboxRelay(db, connect, service="test", poll_seconds=3600)
        await write_events(db, relay, said, 1)
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        try:
            await eventually(lambda: len(published) == 2, timeout=10)
        finally:
            stop.set()
            await task
        assert await unpublished(db) == 0


async def test_rows_a_relay_claimed_before_it_died_are_published_by_another(
    database_url: str, broker: str
) -> None:
    said = fresh_event_type()
    topic = f"{said.event_type.split('.')[0]}.events"
    async with messaging_database(database_url) as db:
        sending = asyncio.Event()

        class Hung:
            """The broker connection hangs, and the relay's process is killed meanwhile."""

            async def publish(self, topic: str, key: str, value: bytes) -> asyncio.Future[None]:
                sending.set()
                await asyncio.Event().wait()
                raise AssertionError("unreachable")

        async def hung() -> Hung:
            return Hung()

        dying = OutboxRelay(db, hung, service="test", lease_seconds=1.0)
        ids = await write_events(db, dying, said, 3)
        pass_ = asyncio.create_task(dying.publish_pending())
        await eventually(sending.is_set)
        pass_.cancel()
        survivor = relay_for(db, broker, topic)
        assert await survivor.publish_pending() == 0  # still leased to the dead relay

        async def published() -> int:
            return await survivor.publish_pending()

        assert await eventually(published) == 3
        records = await read_topic(broker, topic, expected=3)
    assert [str(decode(r.value)[0].id) for r in records] == ids
