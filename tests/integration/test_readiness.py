"""/readyz reports a service whose messaging has stopped working."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from services.notifications.bootstrap import create_app
from services.notifications.settings import NotificationsSettings
from shared.http.app import MESSAGING
from tests.conftest import eventually
from tests.support import settings_for


async def test_readiness_fails_naming_a_consumer_whose_task_died(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    settings = settings_for(
        NotificationsSettings, database_url=database_url, broker=broker, data_dir=tmp_path
    )
    app = create_app(settings)
    consumer = app[MESSAGING].consumers[0]
    crashed = asyncio.Event()

    async def crash(stop: asyncio.Event) -> None:
        await crashed.wait()
        raise RuntimeError("a bug outside the handler")

    consumer._consume = crash  # type: ignore[method-assign]
    client: TestClient = TestClient(TestServer(app))  # type: ignore[type-arg]
    await client.start_server()
    try:
        ready = await client.get("/readyz")
        assert ready.status == 200, await ready.text()
        crashed.set()

        async def unready() -> bool:
            return (await client.get("/readyz")).status == 503

        await eventually(unready, timeout=15)
        body = await (await client.get("/readyz")).json()
        assert body["messaging"] == f"stopped: {consumer.name}"
        assert body["database"] == "ok" and body["broker"] == "ok"
    finally:
        await client.close()
