"""A changed password and a disabled account end sessions everywhere: booking announces each
one as `identity.session.revoked` with its reason, and all three services refuse its tokens."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web

from services.booking.bootstrap import create_app as booking_app
from services.booking.demo import DEMO_PASSWORD, seed
from services.booking.settings import BookingSettings
from services.notifications.bootstrap import create_app as notifications_app
from services.notifications.settings import NotificationsSettings
from services.placements.bootstrap import create_app as placements_app
from services.placements.settings import PlacementsSettings
from shared.db import Database
from shared.events import decode
from shared.events.identity import SessionRevoked
from shared.messaging.tables import outbox
from shared.settings import Settings
from tests.conftest import eventually
from tests.integration.test_revocation import (
    STUDENT,
    Client,
    _session_of,
    databases,
    everywhere_refuses,
    refused_by,
)
from tests.support import app_client, bearer, settings_for

ADMIN = {"email": "admin@demo.signpost.example", "password": DEMO_PASSWORD}
NEW_PASSWORD = "kettle orchard lantern"


async def reasons(db_url: str) -> dict[str, str | None]:
    """Each revoked session booking announced, with its reason."""
    db = Database(db_url)
    try:
        async with db.read_session() as s:
            bodies = (
                await s.execute(
                    sa.select(outbox.c.body).where(outbox.c.event_type == SessionRevoked.event_type)
                )
            ).scalars()
            events = [decode(b.encode())[1] for b in bodies]
    finally:
        await db.dispose()
    return {e.session_id: e.reason for e in events if isinstance(e, SessionRevoked)}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_a_password_change_and_a_disabled_account_end_sessions_in_every_service(
    kind: str, broker: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    async with databases(kind, tmp_path, request) as urls, AsyncExitStack() as stack:

        async def start(
            factory: Callable[[Any], web.Application], settings_type: type[Settings], name: str
        ) -> Client:
            settings = settings_for(
                settings_type,
                database_url=urls[name],
                broker=broker,
                data_dir=tmp_path,
                KAFKA_SESSION_TIMEOUT_MS="3000",
            )
            return await stack.enter_async_context(app_client(factory, settings))

        booking = await start(booking_app, BookingSettings, "booking")
        db = Database(urls["booking"])
        try:
            await seed(db, students_total=50, advisers_total=2)
        finally:
            await db.dispose()
        services = {
            "booking": booking,
            "placements": await start(placements_app, PlacementsSettings, "placements"),
            "notifications": await start(notifications_app, NotificationsSettings, "notifications"),
        }

        async def sign_in(credentials: dict[str, str]) -> Any:
            booking.session.cookie_jar.clear()
            return await booking.post("/api/v1/auth/login", json=credentials)

        async def token(credentials: dict[str, str]) -> str:
            response = await sign_in(credentials)
            assert response.status == 200, await response.text()
            access: str = (await response.json())["access_token"]
            return access

        here, laptop, phone = [await token(STUDENT) for _ in range(3)]
        assert await refused_by(services, laptop) == set()

        change = {"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD}
        changed = await booking.post("/api/v1/auth/password", json=change, headers=bearer(here))
        assert changed.status == 200, await changed.text()
        assert (await changed.json())["other_sessions_ended"] == 2
        for other in (laptop, phone):
            await eventually(lambda t=other: everywhere_refuses(services, t), timeout=60)
        assert await refused_by(services, here) == set(), "the session that changed it stays"
        assert (await sign_in(STUDENT)).status == 401, "the old password no longer works"

        renewed = await token({**STUDENT, "password": NEW_PASSWORD})
        me = await (await booking.get("/api/v1/me", headers=bearer(here))).json()
        admin = await token(ADMIN)
        disabled = await booking.post(
            f"/api/v1/accounts/{me['user_id']}/disable", headers=bearer(admin)
        )
        assert disabled.status == 200, await disabled.text()
        assert (await disabled.json())["sessions_ended"] == 2
        for ended in (here, renewed):
            await eventually(lambda t=ended: everywhere_refuses(services, t), timeout=10)
        assert await refused_by(services, admin) == set()

        refusals = []
        for password in (NEW_PASSWORD, "not the password"):
            refused = await sign_in({**STUDENT, "password": password})
            refusals.append((refused.status, await refused.json()))
        assert refusals[0] == refusals[1], "the same answer whether the password was right"
        assert refusals[0][0] == 403
        assert refusals[0][1]["type"].endswith("account-disabled")

        announced = await reasons(urls["booking"])
        assert {announced[_session_of(t)] for t in (laptop, phone)} == {"password_changed"}
        assert {announced[_session_of(t)] for t in (here, renewed)} == {"account_disabled"}

        enabled = await booking.post(
            f"/api/v1/accounts/{me['user_id']}/enable", headers=bearer(admin)
        )
        assert (await enabled.json())["active"] is True
        assert (await sign_in({**STUDENT, "password": NEW_PASSWORD})).status == 200
