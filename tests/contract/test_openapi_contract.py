"""Schemathesis with every check over each service's OpenAPI, as each role: the document tells
the truth about what the service accepts and answers (exceptions, with their reasons, are in
`schemathesis.toml` beside this file)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from services.booking.bootstrap import create_app as booking_app
from services.booking.demo import DEMO_LOGINS, seed
from services.booking.settings import BookingSettings
from services.notifications.bootstrap import create_app as notifications_app
from services.notifications.settings import NotificationsSettings
from services.placements.bootstrap import create_app as placements_app
from services.placements.settings import PlacementsSettings
from shared.db import Database
from shared.devdb import create_database, drop_database
from shared.settings import Settings
from tests.support import app_client, settings_for

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("st")
# Generated requests per operation: the admin, who passes every check, reaches the handlers'
# rules with the most; every other role meets authorization first, where fewer examples find
# the same. Together the file stays within a few minutes.
EXAMPLES = {"admin": 8}
OTHER_ROLES_EXAMPLES = 3
SERVICES: dict[str, tuple[Callable[[Any], web.Application], type[Settings]]] = {
    "booking": (booking_app, BookingSettings),
    "placements": (placements_app, PlacementsSettings),
    "notifications": (notifications_app, NotificationsSettings),
}


@asynccontextmanager
async def database(
    kind: str, tmp_path: Path, name: str, request: pytest.FixtureRequest
) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / name}.db"
        return
    server: str = request.getfixturevalue("postgres_server")
    url = await create_database(server, "signpost_test")
    try:
        yield url
    finally:
        await drop_database(server, url)


async def schemathesis(
    base_url: str,
    token: str,
    workdir: Path,
    phases: str = "examples,fuzzing",
    examples: int = OTHER_ROLES_EXAMPLES,
) -> tuple[int, str]:
    """Run Schemathesis against the service; it keeps its cache under `workdir`."""
    process = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "run",
        f"{base_url}/api/openapi.json",
        "--checks",
        "all",
        "--phases",
        phases,
        "--max-examples",
        str(examples),
        "--seed",
        "1",
        "--workers",
        "1",
        "--header",
        f"Authorization: Bearer {token}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=workdir,
    )
    out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace")


@asynccontextmanager
async def running(
    service: str, kind: str, broker: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """The service (and booking, which signs people in) over fresh databases of `kind`: its
    base URL, and a token for each demo login by role."""
    async with AsyncExitStack() as stack:
        clients: dict[str, TestClient[web.Request, web.Application]] = {}
        for name in {"booking", service}:
            factory, settings_type = SERVICES[name]
            url = await stack.enter_async_context(database(kind, tmp_path, name, request))
            settings = settings_for(
                settings_type, database_url=url, broker=broker, data_dir=tmp_path
            )
            clients[name] = await stack.enter_async_context(app_client(factory, settings))
            if name == "booking":
                db = Database(url)
                try:
                    await seed(db, students_total=50, advisers_total=2)
                finally:
                    await db.dispose()
        tokens = {}
        for login in DEMO_LOGINS:
            clients["booking"].session.cookie_jar.clear()
            signed = await clients["booking"].post(
                "/api/v1/auth/login", json={"email": login.email, "password": login.password}
            )
            assert signed.status == 200, login.email
            tokens[login.role.value] = (await signed.json())["access_token"]
        yield str(clients[service].make_url("")).rstrip("/"), tokens


# Examples and fuzzing for every role over PostgreSQL (where a value out of a column's range
# is refused by the database, not by Python); coverage and stateful over SQLite below: each
# database meets the generated requests, and the file stays within a few minutes.
@pytest.mark.parametrize("kind", ["postgresql"])
@pytest.mark.parametrize("service", list(SERVICES))
async def test_every_operation_keeps_to_its_openapi_for_every_role(
    service: str, kind: str, broker: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    async with running(service, kind, broker, tmp_path, request) as (base_url, tokens):
        failed = []
        for role, token in tokens.items():
            examples = EXAMPLES.get(role, OTHER_ROLES_EXAMPLES)
            code, report = await schemathesis(base_url, token, tmp_path, examples=examples)
            if code != 0:
                failed.append(f"--- as {role}\n{report}")
        assert not failed, "\n".join(failed)


@pytest.mark.parametrize("service", list(SERVICES))
async def test_the_coverage_and_stateful_phases_find_nothing(
    service: str, broker: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The coverage phase (each schema's edges: boundaries, missing and wrong-typed fields)
    and the stateful phase (sequences that follow the links between operations) as an
    admin, who may reach every operation."""
    async with running(service, "sqlite", broker, tmp_path, request) as (base_url, tokens):
        code, report = await schemathesis(
            base_url,
            tokens["admin"],
            tmp_path,
            phases="coverage,stateful",
            examples=EXAMPLES["admin"],
        )
        assert code == 0, report
