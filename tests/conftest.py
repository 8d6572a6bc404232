"""Fixtures shared by every test: a real broker, real SQLite and PostgreSQL databases.

- `broker`: a fresh in-memory Tansu broker for the session, on a free loopback port, killed
  by pid at the end (set KAFKA_BOOTSTRAP_SERVERS to use another broker instead). The local
  broker has no idempotent producer, so KAFKA_ENABLE_IDEMPOTENCE defaults to false with it;
  services started by tests inherit that.
- `database_url`: parametrised over SQLite and PostgreSQL; the PostgreSQL database is created
  with a unique name on the local server (TEST_POSTGRES_URL overrides) and dropped afterwards.
PostgreSQL tests fail rather than skip under CI, where the server is part of the machine.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from shared.devbroker import LocalBroker, port_open
from shared.devdb import create_database, drop_database

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
TESTS_DIR = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        kind = Path(str(item.fspath)).relative_to(TESTS_DIR).parts[0]
        if kind in {"unit", "integration", "e2e", "browser"}:
            item.add_marker(getattr(pytest.mark, kind))


@pytest.fixture(scope="session")
def broker() -> Iterator[str]:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    os.environ.setdefault("KAFKA_ENABLE_IDEMPOTENCE", "false")
    local = LocalBroker()
    try:
        yield local.start()
    finally:
        local.stop()


@pytest.fixture(scope="session")
def postgres_server() -> str:
    url = make_url(POSTGRES_URL)
    if not port_open(url.host or "127.0.0.1", url.port or 5432, timeout=2):
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {url.host}:{url.port}")
        pytest.skip("PostgreSQL is not reachable (set TEST_POSTGRES_URL); CI always runs these")
    return POSTGRES_URL


@pytest.fixture
async def postgres_url(postgres_server: str) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database."""
    url = await create_database(postgres_server, "signpost_test")
    try:
        yield url
    finally:
        await drop_database(postgres_server, url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


async def eventually(check, *, timeout: float = 10.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll `check` (sync or async) until it returns a truthy value or the deadline passes."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)
