"""Authentication and cross-site protection in the shared middleware (in-process HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.exc import OperationalError

from shared.auth.keys import generate_keypair
from shared.auth.principal import Role
from shared.auth.tokens import TokenIssuer, TokenVerifier
from shared.auth.web import require
from shared.http.middleware import (
    SESSION_COOKIE,
    authentication,
    problems,
    problems_middleware,
    request_context,
)
from shared.http.problems import Problem

KEYS = generate_keypair()
ISSUER = TokenIssuer(KEYS.private_pem, issuer="signpost-booking", ttl=timedelta(minutes=5))


async def whoami(request: web.Request) -> web.Response:
    principal = require(request, Role.STUDENT)
    return web.json_response({"user": principal.user_id})


async def database_away(request: web.Request) -> web.Response:
    raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


async def bug(request: web.Request) -> web.Response:
    raise KeyError("oops")


@pytest.fixture
async def client() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    verifier = TokenVerifier(KEYS.public_pem, issuer="signpost-booking")
    app = web.Application(middlewares=[request_context, problems, authentication(verifier)])
    app.router.add_get("/me", whoami)
    app.router.add_post("/me", whoami)
    app.router.add_get("/database-away", database_away)
    app.router.add_get("/bug", bug)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def student_token() -> str:
    return ISSUER.issue(user_id="st-1", role=Role.STUDENT, school_ids=["s1"])


async def test_a_bearer_token_identifies_the_caller(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.post("/me", headers={"Authorization": f"Bearer {student_token()}"})
    assert response.status == 200
    assert await response.json() == {"user": "st-1"}


async def test_no_token_is_401_and_a_bad_one_says_why(client: TestClient) -> None:  # type: ignore[type-arg]
    assert (await client.get("/me")).status == 401
    response = await client.get("/me", headers={"Authorization": "Bearer nonsense"})
    assert response.status == 401
    assert (await response.json())["detail"] == "the token is not valid"


async def test_the_wrong_role_is_403(client: TestClient) -> None:  # type: ignore[type-arg]
    token = ISSUER.issue(user_id="pa-1", role=Role.ADVISER)
    response = await client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 403


async def test_a_cookie_signs_in_for_reading(client: TestClient) -> None:  # type: ignore[type-arg]
    client.session.cookie_jar.update_cookies({SESSION_COOKIE: student_token()})
    assert (await client.get("/me")).status == 200


async def test_a_cookie_authenticated_change_from_another_site_is_refused(
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    client.session.cookie_jar.update_cookies({SESSION_COOKIE: student_token()})
    elsewhere = await client.post("/me", headers={"Origin": "https://evil.example"})
    assert elsewhere.status == 403
    assert (await elsewhere.json())["type"].endswith("/cross-site-request")
    assert (await client.post("/me")).status == 403  # no Origin or Referer at all
    own_site = str(client.make_url("/")).rstrip("/")
    assert (await client.post("/me", headers={"Origin": own_site})).status == 200
    assert (await client.post("/me", headers={"Referer": f"{own_site}/page"})).status == 200


async def test_request_and_correlation_ids_are_returned(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/me", headers={"X-Correlation-ID": "corr-42"})
    assert response.headers["X-Correlation-ID"] == "corr-42"
    assert response.headers["X-Request-ID"]
    spoofed = await client.get("/me", headers={"X-Correlation-ID": "bad id with spaces"})
    assert spoofed.headers["X-Correlation-ID"] != "bad id with spaces"


async def test_an_unreachable_database_is_503_with_retry_after(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/database-away")
    assert response.status == 503
    assert response.headers["Retry-After"] == "2"
    assert response.content_type == "application/problem+json"
    assert "database" in (await response.json())["detail"]


async def test_a_bug_is_500_without_its_details(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/bug")
    assert response.status == 500
    assert "oops" not in await response.text()


class Taken(Exception):
    pass


async def test_a_service_s_own_errors_are_translated_by_the_shared_middleware() -> None:
    async def book(request: web.Request) -> web.Response:
        raise Taken()

    def translate(error: Exception) -> Problem | None:
        return (
            Problem(409, "Conflict", "That time was taken.") if isinstance(error, Taken) else None
        )

    app = web.Application(middlewares=[problems_middleware(translate)])
    app.router.add_post("/book", book)
    app.router.add_get("/bug", bug)
    async with TestClient(TestServer(app)) as test_client:
        taken = await test_client.post("/book")
        assert taken.status == 409
        assert taken.content_type == "application/problem+json"
        assert (await taken.json())["detail"] == "That time was taken."
        assert (await test_client.get("/bug")).status == 500
