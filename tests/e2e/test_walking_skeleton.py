"""The three services as real processes on a real broker: a booking becomes reminders."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from services.booking.demo import DEMO_PASSWORD, demo_id
from shared.devbroker import free_port
from tests.conftest import eventually

SERVICES = ("booking", "placements", "notifications")
REPO = Path(__file__).resolve().parents[2]


class Http:
    """A small JSON client for the running services."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def call(
        self,
        method: str,
        url: str,
        body: Any = None,
        token: str | None = None,
        params: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self._session.request(
            method,
            url,
            json=body,
            headers=headers,
            params=params,
            timeout=aiohttp.ClientTimeout(total=5),
        ) as response:
            return response.status, await response.json(content_type=None)

    async def answers(self, url: str) -> Any:
        """The JSON body when `url` answers 200, otherwise None (not up yet)."""
        try:
            status, body = await self.call("GET", url)
        except aiohttp.ClientError:
            return None
        return body if status == 200 else None


def start_system(
    broker: str,
    data_dir: Path,
    extra: Callable[[dict[str, str]], dict[str, str]] | None = None,
) -> tuple[dict[str, str], list[subprocess.Popen[bytes]]]:
    """Seed the demo county, then start each service as its own process on a free port;
    `extra(urls)` gives more environment for them, once their addresses are known."""
    env = {
        **os.environ,
        "SIGNPOST_ENV": "development",
        "SIGNPOST_DATA_DIR": str(data_dir),
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "KAFKA_SESSION_TIMEOUT_MS": "6000",
        "OUTBOX_POLL_SECONDS": "0.2",
    }
    urls = {}
    for name in SERVICES:
        port = free_port()
        env[f"{name.upper()}_HTTP_PORT"] = str(port)
        urls[name] = f"http://127.0.0.1:{port}"
    if extra is not None:
        env.update(extra(urls))
    subprocess.run(
        [sys.executable, "-m", "services.cli", "seed"],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=120,
    )
    processes = []
    for name in SERVICES:
        with open(data_dir / f"{name}.log", "wb") as log:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", f"services.{name}"],
                    env=env,
                    cwd=REPO,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    return urls, processes


def stop_system(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        assert process.wait(timeout=20) == 0, "a service did not shut down cleanly"


@pytest.fixture(scope="module")
async def system(
    broker: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Http, dict[str, str]]]:
    urls, processes = start_system(broker, tmp_path_factory.mktemp("system"))
    try:
        async with aiohttp.ClientSession() as session:
            http = Http(session)
            for url in urls.values():
                await eventually(lambda url=url: http.answers(f"{url}/healthz"), timeout=60)
            yield http, urls
    finally:
        stop_system(processes)


async def test_every_service_is_ready_with_database_and_broker(
    system: tuple[Http, dict[str, str]],
) -> None:
    http, urls = system
    for url in urls.values():
        body = await eventually(lambda url=url: http.answers(f"{url}/readyz"), timeout=30)
        assert body == {"status": "ok", "database": "ok", "broker": "ok", "messaging": "ok"}


async def test_an_appointment_booked_through_booking_appears_as_reminders(
    system: tuple[Http, dict[str, str]],
) -> None:
    http, urls = system
    status, login = await http.call(
        "POST",
        f"{urls['booking']}/api/v1/auth/login",
        {"email": "coordinator@demo.signpost.example", "password": DEMO_PASSWORD},
    )
    assert status == 200
    token = login["access_token"]
    school_id = demo_id("school", 0)
    now = datetime.now(UTC)
    window = {
        "school_id": school_id,
        "from": now.isoformat(),
        "to": (now + timedelta(days=28)).isoformat(),
    }
    status, listed = await http.call(
        "GET", f"{urls['booking']}/api/v1/slots", token=token, params=window
    )
    assert status == 200 and listed["slots"], listed
    body = {
        "slot": {"school_id": school_id, "starts_at": listed["slots"][0]["starts_at"]},
        "student_id": demo_id("student", 40),
    }
    status, created = await http.call("POST", f"{urls['booking']}/api/v1/appointments", body, token)
    assert status == 201, created
    url = f"{urls['notifications']}/api/v1/reminders?appointment_id={created['id']}"
    booked_at = time.monotonic()

    async def reminders() -> list[Any]:
        items: list[Any] = (await http.call("GET", url, token=token))[1]["items"]
        return items

    items = await eventually(reminders, timeout=5)
    assert time.monotonic() - booked_at < 5
    assert {item["kind"] for item in items} == {"day_before", "same_day"}
    assert all(item["status"] == "scheduled" for item in items)
