"""A signed-out session's token is refused by every service, and by every replica of each."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.bootstrap import create_app as booking_app
from services.booking.demo import DEMO_PASSWORD, seed
from services.booking.settings import BookingSettings
from services.notifications.bootstrap import create_app as notifications_app
from services.notifications.settings import NotificationsSettings
from services.placements.bootstrap import MIGRATIONS as PLACEMENTS_MIGRATIONS
from services.placements.bootstrap import create_app as placements_app
from services.placements.settings import PlacementsSettings
from shared.auth.revocations import RevokedSessions
from shared.db import Database
from shared.devdb import create_database, drop_database
from shared.events.envelope import Envelope, Event
from shared.events.identity import SessionRevoked
from shared.messaging.tables import revoked_sessions
from shared.migrations import upgrade
from shared.settings import Settings
from shared.uow import UnitOfWork
from tests.conftest import eventually
from tests.support import app_client, bearer, settings_for

Client = TestClient[web.Request, web.Application]
STUDENT = {"email": "student@demo.signpost.example", "password": DEMO_PASSWORD}
# A path on each service that needs a signed-in caller: 401 means the token was refused.
PROBES = {
    "booking": "/api/v1/me",
    "placements": "/api/v1/rounds",
    "notifications": "/api/v1/reminders",
}


@asynccontextmanager
async def databases(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[dict[str, str]]:
    """A fresh database of `kind` for each service."""
    names = ("booking", "placements", "notifications")
    if kind == "sqlite":
        yield {name: f"sqlite+aiosqlite:///{tmp_path / name}.db" for name in names}
        return
    server: str = request.getfixturevalue("postgres_server")
    urls = {name: await create_database(server, "signpost_test") for name in names}
    try:
        yield urls
    finally:
        for url in urls.values():
            await drop_database(server, url)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_a_revoked_token_is_refused_by_all_three_services_and_each_replica_within_seconds(
    kind: str, broker: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    async with databases(kind, tmp_path, request) as urls, AsyncExitStack() as stack:

        async def start(
            factory: Callable[[Any], web.Application],
            settings_type: type[Settings],
            name: str,
            **extra: str,
        ) -> Client:
            settings = settings_for(
                settings_type,
                database_url=urls[name],
                broker=broker,
                data_dir=tmp_path,
                KAFKA_SESSION_TIMEOUT_MS="3000",
                **extra,
            )
            return await stack.enter_async_context(app_client(factory, settings))

        booking = await start(booking_app, BookingSettings, "booking")
        db = Database(urls["booking"])
        try:
            await seed(db, students_total=50, advisers_total=2)
        finally:
            await db.dispose()
        # Two placements processes in one consumer group: each event reaches one of them.
        group = {"KAFKA_GROUP_PREFIX": f"test-{uuid.uuid4().hex[:8]}-"}
        services = {
            "booking": booking,
            "placements": await start(placements_app, PlacementsSettings, "placements", **group),
            "placements replica": await start(
                placements_app, PlacementsSettings, "placements", **group
            ),
            "notifications": await start(notifications_app, NotificationsSettings, "notifications"),
        }

        async def sign_in() -> str:
            booking.session.cookie_jar.clear()  # bearer tokens only, as an API client signs in
            response = await booking.post("/api/v1/auth/login", json=STUDENT)
            assert response.status == 200
            token: str = (await response.json())["access_token"]
            return token

        first, second, kept = await sign_in(), await sign_in(), await sign_in()
        assert await refused_by(services, second) == set()

        # The first revocation also waits out the consumer groups' first assignment.
        assert (await booking.post("/api/v1/auth/logout", headers=bearer(first))).status == 204
        await eventually(lambda: everywhere_refuses(services, first), timeout=60)

        assert (await booking.post("/api/v1/auth/logout", headers=bearer(second))).status == 204
        await eventually(lambda: everywhere_refuses(services, second), timeout=3)
        assert await refused_by(services, kept) == set(), "other sessions stay signed in"

        for name in ("placements", "notifications"):
            service_db = Database(urls[name])
            try:
                async with service_db.read_session() as s:
                    denied = set(
                        (await s.execute(sa.select(revoked_sessions.c.session_id))).scalars()
                    )
            finally:
                await service_db.dispose()
            assert {_session_of(first), _session_of(second)} <= denied, name
            assert _session_of(kept) not in denied, name


def _session_of(token: str) -> str:
    sid: str = jwt.decode(token, options={"verify_signature": False})["sid"]
    return sid


async def refused_by(services: dict[str, Client], token: str) -> set[str]:
    refused = set()
    for name, client in services.items():
        probe = PROBES[name.split()[0]]
        if (await client.get(probe, headers=bearer(token))).status == 401:
            refused.add(name)
    return refused


async def everywhere_refuses(services: dict[str, Client], token: str) -> bool:
    return await refused_by(services, token) == set(services)


async def test_a_replica_that_missed_the_event_refuses_the_session_after_one_bounded_read(
    database_url: str,
) -> None:
    db = Database(database_url)
    now = [datetime(2027, 1, 12, 9, 0, tzinfo=UTC)]
    seconds = [0.0]
    statements: list[str] = []
    try:
        await upgrade(db, PLACEMENTS_MIGRATIONS)
        sa.event.listen(
            db.engine.sync_engine,
            "before_cursor_execute",
            lambda _c, _cur, statement, *_: statements.append(statement),
        )

        def replica() -> RevokedSessions:
            return RevokedSessions(db, clock=lambda: now[0], monotonic=lambda: seconds[0])

        applied, missed = replica(), replica()

        def unit(session: AsyncSession) -> UnitOfWork:
            return UnitOfWork(db, producer="test").within(session)

        assert not await missed.is_revoked("s-1")
        reads = len(statements)
        for _ in range(100):
            assert not await missed.is_revoked("s-1")
        assert len(statements) == reads, "no read per request within the refresh interval"

        event = SessionRevoked(session_id="s-1", expires_at=now[0] + timedelta(minutes=15))
        async with db.session() as s:
            await applied.record(
                Event(Envelope.wrap(event, key="s-1", producer="booking"), event), unit(s)
            )
        assert await applied.is_revoked("s-1")
        seconds[0] += 1.0
        assert await missed.is_revoked("s-1")
        assert not await missed.is_revoked("s-2")

        now[0] += timedelta(minutes=16)
        seconds[0] += 1.0
        assert not await missed.is_revoked("s-1"), "kept only until its tokens expire"
        later = SessionRevoked(session_id="s-2", expires_at=now[0] + timedelta(minutes=15))
        async with db.session() as s:
            await applied.record(
                Event(Envelope.wrap(later, key="s-2", producer="booking"), later), unit(s)
            )
        async with db.read_session() as s:
            kept = set((await s.execute(sa.select(revoked_sessions.c.session_id))).scalars())
        assert kept == {"s-2"}, "expired revocations are purged"
    finally:
        await db.dispose()
