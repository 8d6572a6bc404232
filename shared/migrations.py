"""Alembic migrations per service, run from code (at start in development) or the CLI.

Each service has `migrations/` with an `env.py` that calls `run_migrations(target_metadata)`.
The connection is handed to Alembic through `config.attributes`, so the same async engine the
service uses also migrates, inside the running event loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData

from shared.db import Database
from shared.messaging.tables import metadata as messaging_metadata


def _config(script_location: Path, connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["connection"] = connection
    return cfg


async def upgrade(db: Database, script_location: Path, revision: str = "head") -> None:
    def run(connection: Connection) -> None:
        command.upgrade(_config(script_location, connection), revision)

    async with db.connect() as conn:
        await conn.run_sync(run)


async def current_revision(db: Database) -> str | None:
    def read(connection: Connection) -> str | None:
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(connection).get_current_revision()

    async with db.connect() as conn:
        return await conn.run_sync(read)


def run_migrations(target_metadata: MetaData) -> None:
    """Body of every service's `env.py`."""
    connection: Any = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `signpost migrate SERVICE`, not alembic")
    context.configure(
        connection=connection,
        target_metadata=[target_metadata, messaging_metadata],
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


@asynccontextmanager
async def database_for_task(
    url: str, migrations: Path, *, migrate: bool = True
) -> AsyncIterator[Database]:
    """A database for one command or start-up step: migrated first when `migrate`, and its
    connections closed when the step ends, however it ends."""
    db = Database(url)
    try:
        if migrate:
            await upgrade(db, migrations)
        yield db
    finally:
        await db.dispose()
