"""Each service's migrations build exactly the schema its tables describe, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from services.registry import entries
from shared.db import Database
from shared.messaging.tables import metadata as messaging_metadata
from shared.migrations import current_revision, upgrade

SERVICES = ["booking", "placements", "notifications"]


def _service_metadata(name: str) -> Any:
    module = __import__(f"services.{name}.adapters.orm", fromlist=["metadata"])
    return module.metadata


def _differences(connection: Connection, name: str) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, [_service_metadata(name), messaging_metadata]))


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_the_tables_and_downgrade_cleanly(
    database_url: str, service: str
) -> None:
    entry = entries()[service]
    db = Database(database_url)
    try:
        await upgrade(db, entry.migrations)
        assert await current_revision(db) is not None
        async with db.connect() as conn:
            assert await conn.run_sync(_differences, service) == []
        await upgrade(db, entry.migrations)  # running again is a no-op
        from alembic import command

        from shared.migrations import _config

        def downgrade(connection: Connection) -> list[str]:
            command.downgrade(_config(entry.migrations, connection), "base")
            return [t for t in inspect(connection).get_table_names() if t != "alembic_version"]

        async with db.connect() as conn:
            assert await conn.run_sync(downgrade) == []
    finally:
        await db.dispose()
