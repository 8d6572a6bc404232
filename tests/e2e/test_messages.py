"""From booking a slot, through the real broker, to the fake SMS provider receiving the
confirmation: the three services as real processes, the real Twilio SDK in notifications."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from services.booking.demo import DEMO_PASSWORD, demo_id
from services.notifications.devtools.fake_twilio import FakeTwilio
from shared.devbroker import free_port
from tests.conftest import eventually
from tests.e2e.test_walking_skeleton import Http, start_system, stop_system

ACCOUNT, TOKEN = "AC" + "3" * 32, "e2e-auth-token"


@pytest.fixture(scope="module")
async def system_with_fake_sms(
    broker: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Http, dict[str, str], FakeTwilio, Path]]:
    fake = FakeTwilio(ACCOUNT, TOKEN)
    runner = web.AppRunner(fake.app())
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    data_dir = tmp_path_factory.mktemp("messages")

    def extra(urls: dict[str, str]) -> dict[str, str]:
        return {
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_API_BASE_URL": f"http://127.0.0.1:{port}",
            "NOTIFICATIONS_PUBLIC_URL": urls["notifications"],
            "SMTP_PORT": str(free_port()),  # no email in this test
            "QUIET_HOURS_START": "00:00",  # the test behaves the same at any hour
            "QUIET_HOURS_END": "00:00",
            "DISPATCH_SECONDS": "1",
        }

    urls, processes = start_system(broker, data_dir, extra)
    try:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            http = Http(session)
            for url in urls.values():
                await eventually(lambda url=url: http.answers(f"{url}/healthz"), timeout=60)
            yield http, urls, fake, data_dir
    finally:
        stop_system(processes)
        await runner.cleanup()


def _texting_student(data_dir: Path, school_id: str) -> tuple[str, str] | None:
    """A demo student of `school_id` who agreed to texts, once notifications knows them."""
    with sqlite3.connect(data_dir / "notifications.db") as db:
        row = db.execute(
            "SELECT c.owner_id, c.phone FROM contacts c JOIN contact_owners o"
            " ON o.owner_id = c.owner_id WHERE o.school_id = ? AND c.sms_consent"
            " AND c.role = 'student' ORDER BY c.owner_id LIMIT 1 OFFSET 7",
            (school_id,),
        ).fetchone()
    return (row[0], row[1]) if row else None


async def test_booking_a_slot_texts_the_student_a_confirmation_through_twilio(
    system_with_fake_sms: tuple[Http, dict[str, str], FakeTwilio, Path],
) -> None:
    http, urls, fake, data_dir = system_with_fake_sms
    school_id = demo_id("school", 0)
    student_id, phone = await eventually(lambda: _texting_student(data_dir, school_id), timeout=60)
    status, login = await http.call(
        "POST",
        f"{urls['booking']}/api/v1/auth/login",
        {"email": "coordinator@demo.signpost.example", "password": DEMO_PASSWORD},
    )
    assert status == 200
    token = login["access_token"]
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
        "slot": {"school_id": school_id, "starts_at": listed["slots"][-1]["starts_at"]},
        "student_id": student_id,
    }
    status, created = await http.call("POST", f"{urls['booking']}/api/v1/appointments", body, token)
    assert status == 201, created
    booked_at = time.monotonic()

    def confirmation() -> list[dict[str, Any]]:
        return [m for m in fake.received if m["to"] == phone and "is booked" in m["body"]]

    # Earlier tests on the shared broker may have booked this demo student too; theirs
    # replay here, so look for at least ours.
    text = (await eventually(confirmation, timeout=30))[-1]
    assert time.monotonic() - booked_at < 30
    assert "careers appointment" in text["body"]
    assert 0 < int(text["validity_period"]) <= 36000

    async def logged() -> list[Any]:
        status, log = await http.call(
            "GET",
            f"{urls['notifications']}/api/v1/messages",
            token=token,
            params={"appointment_id": created["id"]},
        )
        assert status == 200
        return [m for m in log["items"] if m["provider_status"] == "delivered"]

    [delivered] = await eventually(logged, timeout=30)  # the signed callback was accepted
    assert delivered["kind"] == "booking_confirmation"
