"""The demo county opens slots over the coming weeks that the demo logins can book."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.booking.bootstrap import create_app
from services.booking.demo import DEMO_LOGINS, DEMO_PASSWORD, demo_id, seed
from services.booking.settings import BookingSettings
from shared.auth.principal import Role
from shared.db import Database
from tests.support import app_client, bearer, settings_for


async def test_the_demo_student_signs_in_sees_slots_and_books_one(
    broker: str, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/demo.db"
    settings = settings_for(BookingSettings, database_url=url, broker=broker, data_dir=tmp_path)
    async with app_client(create_app, settings) as client:
        db = Database(url)
        try:
            assert await seed(db, students_total=50, advisers_total=4)
        finally:
            await db.dispose()
        email = next(login.email for login in DEMO_LOGINS if login.role is Role.STUDENT)
        login = await client.post(
            "/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD}
        )
        token = (await login.json())["access_token"]
        me = await (await client.get("/api/v1/me", headers=bearer(token))).json()
        assert (me["role"], me["appointments"]) == ("student", [])
        now = datetime.now(UTC)
        slots = await client.get(
            "/api/v1/slots",
            params={
                "school_id": demo_id("school", 0),
                "from": now.isoformat(),
                "to": (now + timedelta(days=62)).isoformat(),
            },
            headers=bearer(token),
        )
        listed = (await slots.json())["slots"]
        assert listed, "the demo agreements open slots over the next weeks"
        booked = await client.post(
            "/api/v1/appointments",
            json={"slot": {"school_id": demo_id("school", 0), "starts_at": listed[0]["starts_at"]}},
            headers=bearer(token),
        )
        assert booked.status == 201, await booked.text()
        me = await (await client.get("/api/v1/me", headers=bearer(token))).json()
        assert [a["id"] for a in me["appointments"]] == [(await booked.json())["id"]]

        # The coordinator has a contact to check, as a report from notifications leaves it.
        email = next(login.email for login in DEMO_LOGINS if login.role is Role.COORDINATOR)
        client.session.cookie_jar.clear()  # the student's session cookie
        login = await client.post(
            "/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD}
        )
        staff = bearer((await login.json())["access_token"])
        alerts = await client.get(
            "/api/v1/contact-alerts", params={"school_id": demo_id("school", 0)}, headers=staff
        )
        [alert] = (await alerts.json())["items"]
        assert (alert["role"], alert["channel"], alert["reason"]) == (
            "student",
            "sms",
            "invalid_address",
        )
