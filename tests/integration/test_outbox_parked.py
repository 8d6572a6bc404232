"""A row the broker refuses is retried, then parked; other keys flow on, its own key waits."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from prometheus_client import REGISTRY

from shared.db import Database
from shared.events import Envelope, decode
from shared.messaging.claims import RetryPolicy
from shared.messaging.kafka import KafkaPublisher, ensure_topics
from shared.messaging.maintenance import retry_parked
from shared.messaging.outbox import OutboxRelay, record
from shared.messaging.tables import outbox
from tests.conftest import eventually
from tests.integration.messaging_support import fresh_event_type, messaging_database, read_topic

TOO_LARGE = 2 * 1024 * 1024  # over the producer's max_request_size (1 MiB)


def relay_for(db: Database, bootstrap: str, topic: str, service: str = "test") -> OutboxRelay:
    async def connect() -> KafkaPublisher:
        await ensure_topics(bootstrap, [topic])
        return await KafkaPublisher.connect(bootstrap, client_id="test-relay")

    return OutboxRelay(
        db,
        connect,
        service=service,
        poll_seconds=0.05,
        retry=RetryPolicy(max_attempts=3, base_seconds=0.05),
    )


async def write(db: Database, payload_type: type, n: int, key: str, *, pad: int = 0) -> int:
    """Record one event; `pad` bytes of padding make its body as large as wanted."""
    envelope = Envelope.wrap(payload_type(n=n), key=key, producer="test")
    async with db.session() as session:
        await record(session, envelope)
        if pad:
            await session.execute(
                outbox.update()
                .where(outbox.c.event_id == str(envelope.id))
                .values(body=envelope.model_dump_json() + " " * pad)
            )
        seq = await session.scalar(
            sa.select(outbox.c.seq).where(outbox.c.event_id == str(envelope.id))
        )
    assert seq is not None
    return seq


async def row(db: Database, seq: int) -> sa.Row[tuple[str, int, str | None, datetime | None]]:
    async with db.read_session() as s:
        found = (
            await s.execute(
                sa.select(
                    outbox.c.status, outbox.c.attempts, outbox.c.last_error, outbox.c.failed_at
                ).where(outbox.c.seq == seq)
            )
        ).one()
    return found


async def drain_until_parked(db: Database, relay: OutboxRelay, seq: int) -> None:
    async def parked() -> bool:
        await relay.publish_pending()
        return (await row(db, seq)).status == "failed"

    await eventually(parked, timeout=15)


def numbers(records: list) -> list[tuple[bytes, int]]:  # type: ignore[type-arg]
    return [(r.key, decode(r.value)[0].data["n"]) for r in records]


async def test_a_parked_row_does_not_hold_back_other_keys_but_holds_back_its_own(
    database_url: str, broker: str
) -> None:
    said = fresh_event_type()
    topic = f"{said.event_type.split('.')[0]}.events"
    async with messaging_database(database_url) as db:
        relay = relay_for(db, broker, topic)
        too_large = await write(db, said, 1, "a", pad=TOO_LARGE)
        await write(db, said, 2, "a")
        await write(db, said, 3, "b")
        await drain_until_parked(db, relay, too_large)
        await write(db, said, 4, "b")
        while await relay.publish_pending():
            pass
        parked = await row(db, too_large)
        # Ask for one more than should arrive: "a"'s second event must not overtake the first.
        records = await read_topic(broker, topic, expected=3, timeout_ms=2000)
    assert numbers(records) == [(b"b", 3), (b"b", 4)]
    assert parked.status == "failed"
    assert parked.attempts == 3
    assert parked.last_error == "MessageSizeTooLargeError"
    assert parked.failed_at is not None and parked.failed_at <= datetime.now(UTC)


async def test_a_retried_row_goes_out_before_the_rows_of_its_key_that_waited(
    database_url: str, broker: str
) -> None:
    said = fresh_event_type()
    topic = f"{said.event_type.split('.')[0]}.events"
    async with messaging_database(database_url) as db:
        relay = relay_for(db, broker, topic)
        first = await write(db, said, 1, "a", pad=TOO_LARGE)
        await write(db, said, 2, "a")
        await drain_until_parked(db, relay, first)
        async with db.session() as s:  # the cause is dealt with (here: the padding goes)
            await s.execute(
                outbox.update()
                .where(outbox.c.seq == first)
                .values(body=sa.func.trim(outbox.c.body))
            )
        assert await retry_parked(db, first) == 1
        assert await relay.publish_pending() == 2
        records = await read_topic(broker, topic, expected=2)
        status = await row(db, first)
    assert numbers(records) == [(b"a", 1), (b"a", 2)]
    assert status.status == "published"


def gauge(name: str, service: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"service": service})


async def test_the_backlog_gauges_follow_the_outbox_while_the_broker_is_up(
    database_url: str, broker: str
) -> None:
    said = fresh_event_type()
    topic = f"{said.event_type.split('.')[0]}.events"
    service = f"gauges-{uuid.uuid4().hex[:8]}"
    async with messaging_database(database_url) as db:
        relay = relay_for(db, broker, topic, service)
        first = await write(db, said, 1, "a", pad=TOO_LARGE)
        await write(db, said, 2, "a")
        await write(db, said, 3, "b")
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        try:
            await eventually(lambda: gauge("signpost_outbox_failed", service) == 1, timeout=15)
            await eventually(lambda: gauge("signpost_outbox_pending", service) == 1)
            assert (gauge("signpost_outbox_oldest_pending_seconds", service) or 0) > 0
            async with db.session() as s:
                await s.execute(
                    outbox.update()
                    .where(outbox.c.seq == first)
                    .values(body=sa.func.trim(outbox.c.body))
                )
            await retry_parked(db)
            relay.wake()
            await eventually(lambda: gauge("signpost_outbox_pending", service) == 0)
            assert gauge("signpost_outbox_failed", service) == 0
            assert gauge("signpost_outbox_oldest_pending_seconds", service) == 0
        finally:
            stop.set()
            await task
