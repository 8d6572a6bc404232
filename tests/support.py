"""Helpers for tests that run a service in-process: settings, tokens and an HTTP client."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from shared.auth.keys import ensure_dev_keypair
from shared.auth.principal import Role
from shared.auth.tokens import TokenIssuer
from shared.devbroker import port_open
from shared.http.app import MESSAGING
from shared.messaging.kafka import ensure_topics
from shared.settings import Settings

S = TypeVar("S", bound=Settings)


def settings_for(
    settings_type: type[S], *, database_url: str, broker: str, data_dir: Path, **extra: str
) -> S:
    env = {
        "SIGNPOST_ENV": "test",
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "KAFKA_ENABLE_IDEMPOTENCE": os.environ.get("KAFKA_ENABLE_IDEMPOTENCE", "true"),
        "KAFKA_SESSION_TIMEOUT_MS": "6000",
        # Each app in a test run has its own consumer groups on the shared broker.
        "KAFKA_GROUP_PREFIX": f"test-{uuid.uuid4().hex[:8]}-",
        "OUTBOX_POLL_SECONDS": "0.1",
        "SIGNPOST_DATA_DIR": str(data_dir),
        **extra,
    }
    return settings_type.from_env(env)


def _first_broker(bootstrap: str) -> tuple[str, int]:
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    return host, int(port)


async def start_at_the_end(bootstrap: str, group_id: str, topics: Iterable[str]) -> None:
    """Commit the group's offsets at the current end of each topic's partitions."""
    topics = list(topics)
    await ensure_topics(bootstrap, topics)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in consumer.partitions_for_topic(topic) or ()
        ]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        try:
            # aiokafka retries what the broker calls retriable; what reaches here is final.
            await consumer.commit(ends)
        except CommitFailedError:
            # A group with a member already (another replica of the same app) has its own
            # place on the topics, and the broker takes no commit from outside it.
            return
        except KafkaError as exc:
            # Going on would leave the new group reading every event the session's broker
            # holds from the start: say so instead.
            raise RuntimeError(
                f"could not start consumer group {group_id} at the topics' end: {exc!r}"
            ) from exc
    finally:
        await consumer.stop()


def token_for(
    data_dir: Path,
    *,
    user_id: str,
    role: Role,
    school_ids: Iterable[str] = (),
    ebp_id: str | None = None,
    ttl: timedelta = timedelta(minutes=10),
) -> str:
    """A token signed with the test data directory's key, as booking would issue it."""
    keys = ensure_dev_keypair(data_dir / "keys")
    issuer = TokenIssuer(keys.private_pem, issuer="signpost-booking", ttl=ttl)
    return issuer.issue(user_id=user_id, role=role, school_ids=school_ids, ebp_id=ebp_id)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def app_client(
    factory: Callable[[S], web.Application],
    settings: S,
    *,
    history: bool = False,
    port: int | None = None,
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """Start the service (migrations, relay, consumers) in-process and yield a client.

    The broker is shared by the whole test session, and each app's consumer groups are new,
    so they would start by reading every event earlier tests published. Unless `history` is
    asked for, each group starts where its topics end now: the test sees the events it
    publishes, and the session does not slow down as it goes on. `port` picks the loopback
    port to listen on (by default a free one).
    """
    app = factory(settings)
    if not history and port_open(*_first_broker(settings.kafka_bootstrap_servers)):
        for consumer in app[MESSAGING].consumers:
            await start_at_the_end(
                settings.kafka_bootstrap_servers, consumer.group_id, consumer.topics
            )
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(app, port=port))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()
