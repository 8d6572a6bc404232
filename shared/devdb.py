"""Throwaway PostgreSQL databases for tests and benchmarks, beside `devbroker`.

Each gets a unique name on a server the caller names (a SQLAlchemy URL whose database is
one to connect to while creating, usually `postgres`) and is dropped with its connections.
"""

from __future__ import annotations

import uuid

import asyncpg
from sqlalchemy.engine import make_url


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy URL as the plain `postgresql://` form asyncpg and libpq take."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_database(server_url: str, prefix: str) -> str:
    """Create an empty database named `prefix` plus a random suffix; return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(server_url: str, url: str) -> None:
    """Drop the database `url` names, closing whatever is still connected to it."""
    conn = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await conn.close()
