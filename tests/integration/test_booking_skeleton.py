"""Booking's walking skeleton in-process on SQLite and PostgreSQL: login, book, problems."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestClient

from services.booking.adapters.orm import students
from services.booking.bootstrap import create_app
from services.booking.demo import DEMO_PASSWORD, demo_id, seed
from services.booking.settings import BookingSettings
from shared.db import Database
from shared.events import decode
from shared.messaging.tables import outbox
from tests.support import app_client, bearer, settings_for


@asynccontextmanager
async def booking_service(
    tmp_path: Path, broker: str, *, demo: bool = False
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """Booking on a fresh SQLite file, optionally holding the demo county's logins."""
    url = f"sqlite+aiosqlite:///{tmp_path}/b.db"
    settings = settings_for(BookingSettings, database_url=url, broker=broker, data_dir=tmp_path)
    async with app_client(create_app, settings) as client:
        if demo:
            db = Database(url)
            try:
                await seed(db, students_total=50, advisers_total=2)
            finally:
                await db.dispose()
        yield client


async def test_login_book_and_the_event_waits_in_the_outbox(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    settings = settings_for(
        BookingSettings, database_url=database_url, broker=broker, data_dir=tmp_path
    )
    async with app_client(create_app, settings) as client:
        db = Database(database_url)
        try:
            await seed(db, students_total=50, advisers_total=4)
            async with db.read_session() as s:
                school_id = demo_id("school", 0)  # the demo coordinator's school
                student_id = await s.scalar(
                    sa.select(students.c.id).where(students.c.school_id == school_id).limit(1)
                )
            login = await client.post(
                "/api/v1/auth/login",
                json={"email": "coordinator@demo.signpost.example", "password": DEMO_PASSWORD},
            )
            assert login.status == 200
            token = (await login.json())["access_token"]
            assert "signpost_session" in login.cookies

            now = datetime.now(UTC)
            slots = await client.get(
                "/api/v1/slots",
                params={
                    "school_id": school_id,
                    "from": now.isoformat(),
                    "to": (now + timedelta(days=28)).isoformat(),
                },
                headers=bearer(token),
            )
            first = (await slots.json())["slots"][0]
            body = {
                "slot": {"school_id": school_id, "starts_at": first["starts_at"]},
                "student_id": student_id,
            }
            created = await client.post("/api/v1/appointments", json=body, headers=bearer(token))
            assert created.status == 201, await created.text()
            appointment_id = (await created.json())["id"]

            again = await client.post("/api/v1/appointments", json=body, headers=bearer(token))
            assert again.status == 409
            assert again.content_type == "application/problem+json"

            async with db.read_session() as s:
                bodies = (
                    (
                        await s.execute(
                            sa.select(outbox.c.body).where(outbox.c.key == appointment_id)
                        )
                    )
                    .scalars()
                    .all()
                )
            assert [decode(b.encode())[0].type for b in bodies] == ["booking.appointment.confirmed"]
        finally:
            await db.dispose()


async def test_bad_json_gets_a_problem_naming_the_fault(broker: str, tmp_path: Path) -> None:
    async with booking_service(tmp_path, broker) as client:
        response = await client.post(
            "/api/v1/auth/login",
            data=b'{"email": "a@b.c",',
            headers={"Content-Type": "application/json"},
        )
        assert response.status == 400
        assert response.content_type == "application/problem+json"
        problem = await response.json()
        assert problem["status"] == 400
        assert "not valid JSON" in problem["detail"]

        response = await client.post("/api/v1/auth/login", json={"email": "a@b.c"})
        assert response.status == 422
        problem = await response.json()
        assert problem["errors"][0]["field"] == "password"

        response = await client.post(
            "/api/v1/auth/login",
            data="email=a",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status == 415

        response = await client.post(
            "/api/v1/auth/login", json={"email": "nobody@x.example", "password": "wrong"}
        )
        assert response.status == 401
        assert (await response.json())["detail"] == "The email or password is wrong."


async def test_operational_routes_report_health_readiness_metrics_and_openapi(
    broker: str, tmp_path: Path
) -> None:
    async with booking_service(tmp_path, broker) as client:
        assert (await client.get("/healthz")).status == 200
        ready = await client.get("/readyz")
        assert ready.status == 200
        assert await ready.json() == {
            "status": "ok",
            "database": "ok",
            "broker": "ok",
            "messaging": "ok",
        }
        metrics = await (await client.get("/metrics")).text()
        assert "signpost_http_requests_total" in metrics
        spec = await (await client.get("/api/openapi.json")).json()
        assert "/api/v1/appointments" in spec["paths"]
        missing = await client.get("/no/such/page")
        assert missing.status == 404
        assert missing.content_type == "application/problem+json"
        assert missing.headers["X-Request-ID"]


async def test_readiness_reports_an_unreachable_broker(tmp_path: Path) -> None:
    from shared.devbroker import free_port

    async with booking_service(tmp_path, f"127.0.0.1:{free_port()}") as client:
        ready = await client.get("/readyz")
        assert ready.status == 503
        assert (await ready.json())["broker"] == "unreachable"


async def test_signing_out_ends_the_session_for_that_token(broker: str, tmp_path: Path) -> None:
    async with booking_service(tmp_path, broker, demo=True) as client:
        login = await client.post(
            "/api/v1/auth/login",
            json={"email": "student@demo.signpost.example", "password": DEMO_PASSWORD},
        )
        token = (await login.json())["access_token"]
        assert (await client.get("/api/v1/me", headers=bearer(token))).status == 200
        assert (await client.post("/api/v1/auth/logout", headers=bearer(token))).status == 204
        after = await client.get("/api/v1/me", headers=bearer(token))
        assert after.status == 401
        assert (await after.json())["detail"] == "this session has ended; sign in again"


async def test_repeated_wrong_passwords_slow_this_address_down_but_not_the_known_device(
    broker: str, tmp_path: Path
) -> None:
    async with booking_service(tmp_path, broker, demo=True) as client:
        email = "student@demo.signpost.example"
        for _ in range(5):
            wrong = await client.post(
                "/api/v1/auth/login", json={"email": email, "password": "guess"}
            )
            assert wrong.status == 401
        slowed = await client.post(
            "/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD}
        )
        assert slowed.status == 429
        problem = await slowed.json()
        assert problem["detail"].startswith("Too many failed sign-ins from here: try again in")
        assert 0 < problem["retry_after_seconds"] <= 2
        assert int(slowed.headers["Retry-After"]) == problem["retry_after_seconds"] + 1
        other = await client.post(
            "/api/v1/auth/login",
            json={"email": "coordinator@demo.signpost.example", "password": DEMO_PASSWORD},
        )
        assert other.status == 200, "another account from the same address still signs in"
        assert other.cookies["signpost_device"]["path"] == "/api/v1/auth/login"


async def test_a_device_that_signed_in_before_gets_through_with_the_right_password(
    broker: str, tmp_path: Path
) -> None:
    async with booking_service(tmp_path, broker, demo=True) as client:
        email = "student@demo.signpost.example"
        right = {"email": email, "password": DEMO_PASSWORD}
        known = await client.post("/api/v1/auth/login", json=right)
        assert known.status == 200
        device = known.cookies["signpost_device"].value
        client.session.cookie_jar.clear()
        for _ in range(6):
            await client.post("/api/v1/auth/login", json={"email": email, "password": "guess"})
        assert (await client.post("/api/v1/auth/login", json=right)).status == 429
        client.session.cookie_jar.update_cookies({"signpost_device": device})
        again = await client.post("/api/v1/auth/login", json=right)
        assert again.status == 200


async def test_a_page_session_in_use_gets_a_fresh_cookie_past_half_its_life(
    broker: str, tmp_path: Path
) -> None:
    import jwt as pyjwt

    from shared.auth.keys import ensure_dev_keypair
    from shared.auth.principal import Role
    from shared.auth.tokens import TokenIssuer

    async with booking_service(tmp_path, broker, demo=True) as client:
        login = await client.post(
            "/api/v1/auth/login",
            json={"email": "student@demo.signpost.example", "password": DEMO_PASSWORD},
        )
        claims = pyjwt.decode(
            (await login.json())["access_token"], options={"verify_signature": False}
        )
        issuer = TokenIssuer(
            ensure_dev_keypair(tmp_path / "keys").private_pem,
            issuer="signpost-booking",
            ttl=timedelta(minutes=15),
        )
        ageing = issuer.issue(
            user_id=claims["sub"],
            role=Role.STUDENT,
            school_ids=claims["schools"],
            session_id=claims["sid"],
            now=datetime.now(UTC) - timedelta(minutes=10),
        )
        client.session.cookie_jar.clear()
        client.session.cookie_jar.update_cookies({"signpost_session": ageing})

        page = await client.get("/my", allow_redirects=False)
        assert page.status == 200
        fresh = page.cookies["signpost_session"].value
        assert fresh != ageing
        assert pyjwt.decode(fresh, options={"verify_signature": False})["exp"] > claims["exp"] - 5

        young = await client.get("/my", allow_redirects=False)
        assert young.status == 200
        assert "signpost_session" not in young.cookies, "a young token is left alone"
