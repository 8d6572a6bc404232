"""Hostile input meets the shared request parsing and middleware: a clear 4xx, never a 500."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from shared.auth.principal import Role
from shared.auth.tokens import TokenVerifier
from shared.auth.web import require
from shared.http.body import Strict, json_response, read_model
from shared.http.middleware import SESSION_COOKIE, authentication, problems, request_context
from tests.unit.shared.test_http_middleware import KEYS, student_token

Client = TestClient[web.Request, web.Application]


class Note(Strict):
    count: int
    text: str
    tags: list[str] = []


async def note(request: web.Request) -> web.Response:
    body = await read_model(request, Note)
    return json_response(body.model_dump())


async def change(request: web.Request) -> web.Response:
    principal = require(request, Role.STUDENT)
    return web.json_response({"user": principal.user_id})


def _app(public_origin: str | None = None) -> web.Application:
    verifier = TokenVerifier(KEYS.public_pem, issuer="signpost-booking")
    app = web.Application(
        middlewares=[
            request_context,
            problems,
            authentication(verifier, public_origin=public_origin),
        ]
    )
    app.router.add_post("/notes", note)
    app.router.add_post("/change", change)
    return app


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    async with TestClient(TestServer(_app())) as test_client:
        yield test_client


async def _problem(response: object, status: int) -> dict[str, object]:
    assert response.status == status
    assert response.content_type == "application/problem+json"
    found: dict[str, object] = await response.json()
    return found


async def _raw(client: Client, request: bytes) -> tuple[int, bytes]:
    """Send bytes as they are (a client library would refuse them) and read the answer."""
    server = client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        return status, head
    finally:
        writer.close()
        await writer.wait_closed()


async def test_json_nested_too_deeply_is_a_400_not_a_500(client: Client) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    response = await client.post("/notes", data=deep, headers={"Content-Type": "application/json"})
    assert (await _problem(response, 400))["detail"] == "The request body is nested too deeply."


async def test_an_authorization_header_that_is_not_utf8_is_refused_as_a_bad_token(
    client: Client,
) -> None:
    status, head = await _raw(
        client,
        b"POST /change HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\xc3(\r\n"
        b"Content-Length: 0\r\nConnection: close\r\n\r\n",
    )
    assert status == 401
    assert b"application/problem+json" in head


async def test_a_session_cookie_that_is_not_utf8_is_refused_as_a_bad_token(
    client: Client,
) -> None:
    origin = f"http://{client.server.host}:{client.server.port}"
    status, head = await _raw(
        client,
        f"POST /change HTTP/1.1\r\nHost: {client.server.host}:{client.server.port}\r\n"
        f"Origin: {origin}\r\n".encode()
        + f"Cookie: {SESSION_COOKIE}=".encode()
        + b"\xff\xfe\x80\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    assert status == 401
    assert b"application/problem+json" in head


@pytest.mark.parametrize(
    "header, value",
    [
        ("Origin", "http://[::1"),
        ("Origin", "javascript:alert(1)"),
        ("Origin", "not a url at all"),
        ("Referer", "http://%zz"),
        ("Referer", "//"),
    ],
)
async def test_a_malformed_origin_or_referer_on_a_cookie_change_is_a_403(
    client: Client, header: str, value: str
) -> None:
    client.session.cookie_jar.update_cookies({SESSION_COOKIE: student_token()})
    response = await client.post("/change", headers={header: value})
    problem = await _problem(response, 403)
    assert str(problem["type"]).endswith("/cross-site-request")


async def test_the_same_host_and_port_under_another_scheme_is_another_site(
    client: Client,
) -> None:
    client.session.cookie_jar.update_cookies({SESSION_COOKIE: student_token()})
    here = f"{client.server.host}:{client.server.port}"
    assert (await client.post("/change", headers={"Origin": f"http://{here}"})).status == 200
    response = await client.post("/change", headers={"Origin": f"https://{here}"})
    await _problem(response, 403)


async def test_behind_a_proxy_changes_must_come_from_the_public_origin() -> None:
    app = _app(public_origin="https://signpost.example.org")
    async with TestClient(TestServer(app)) as proxied:
        proxied.session.cookie_jar.update_cookies({SESSION_COOKIE: student_token()})
        public = await proxied.post("/change", headers={"Origin": "https://signpost.example.org"})
        assert public.status == 200
        here = f"http://{proxied.server.host}:{proxied.server.port}"
        await _problem(await proxied.post("/change", headers={"Origin": here}), 403)


@pytest.mark.parametrize(
    "text, code",
    [
        ("nul\x00byte", "0000"),
        ("right\u202eleft", "202E"),
        ("isolate\u2066x", "2066"),
        ("escape\x1b[31m", "001B"),
        ("c1\x85", "0085"),
    ],
)
async def test_control_and_bidi_override_characters_are_refused_naming_the_field(
    client: Client, text: str, code: str
) -> None:
    response = await client.post("/notes", json={"count": 1, "text": text})
    problem = await _problem(response, 422)
    assert str(problem["detail"]).startswith("text: ")
    assert f"U+{code}" in str(problem["detail"])
    nested = await client.post("/notes", json={"count": 1, "text": "ok", "tags": ["a", text]})
    assert str((await _problem(nested, 422))["detail"]).startswith("tags: ")


async def test_tabs_line_breaks_and_other_scripts_are_plain_text(client: Client) -> None:
    text = "Line one\nline two\tand a tab — café, Łódź, مرحبا, 日本"
    response = await client.post("/notes", json={"count": 2, "text": text})
    assert response.status == 200
    assert (await response.json())["text"] == text


@pytest.mark.parametrize("count", [True, "3", 2.5])
async def test_a_value_of_the_wrong_json_type_is_refused(client: Client, count: object) -> None:
    response = await client.post("/notes", json={"count": count, "text": "x"})
    assert str((await _problem(response, 422))["detail"]).startswith("count: ")


async def test_a_body_declared_in_another_charset_is_a_415(client: Client) -> None:
    body = json.dumps({"count": 1, "text": "café"}).encode("latin-1")
    response = await client.post(
        "/notes", data=body, headers={"Content-Type": "application/json; charset=latin-1"}
    )
    assert "UTF-8" in str((await _problem(response, 415))["detail"])
    ok = await client.post(
        "/notes",
        data=json.dumps({"count": 1, "text": "café"}).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert ok.status == 200
