"""The three services as real processes on a real broker: a booking becomes reminders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.booking.demo import DEMO_PASSWORD, demo_id
from shared.devbroker import free_port

SERVICES = ("booking", "placements", "notifications")
REPO = Path(__file__).resolve().parents[2]


def call(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def wait_for(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except OSError:
            result = None
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"{what} not within {timeout}s")


@pytest.fixture(scope="module")
def system(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    data_dir = tmp_path_factory.mktemp("system")
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
    try:
        for name, url in urls.items():
            wait_for(lambda url=url: call("GET", f"{url}/healthz")[0] == 200, 60, f"{name} healthy")
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            assert process.wait(timeout=20) == 0, "a service did not shut down cleanly"


def test_every_service_is_ready_with_database_and_broker(system: dict[str, str]) -> None:
    for url in system.values():
        _, body = wait_for(
            lambda url=url: (r := call("GET", f"{url}/readyz"))[0] == 200 and r, 30, "ready"
        )
        assert body == {"status": "ok", "database": "ok", "broker": "ok"}


def test_an_appointment_booked_through_booking_appears_as_reminders(
    system: dict[str, str],
) -> None:
    status, login = call(
        "POST",
        f"{system['booking']}/api/v1/auth/login",
        {"email": "coordinator@demo.signpost.example", "password": DEMO_PASSWORD},
    )
    assert status == 200
    token = login["access_token"]
    school_id = demo_id("school", 0)
    now = datetime.now(UTC)
    query = urllib.parse.urlencode(
        {
            "school_id": school_id,
            "from": now.isoformat(),
            "to": (now + timedelta(days=28)).isoformat(),
        }
    )
    status, listed = call("GET", f"{system['booking']}/api/v1/slots?{query}", token=token)
    assert status == 200 and listed["slots"], listed
    body = {
        "slot": {"school_id": school_id, "starts_at": listed["slots"][0]["starts_at"]},
        "student_id": demo_id("student", 40),
    }
    status, created = call("POST", f"{system['booking']}/api/v1/appointments", body, token)
    assert status == 201, created
    url = f"{system['notifications']}/api/v1/reminders?appointment_id={created['id']}"
    booked_at = time.monotonic()
    items = wait_for(lambda: call("GET", url, token=token)[1]["items"], 5, "reminders")
    assert time.monotonic() - booked_at < 5
    assert {item["kind"] for item in items} == {"day_before", "same_day"}
    assert all(item["status"] == "scheduled" for item in items)
