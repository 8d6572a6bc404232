"""Migration 0002 keeps what the outbox held: published rows stay published, both ways."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Connection, inspect

from services.registry import entries
from shared.db import Database
from shared.migrations import _config, upgrade

SENT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("service", ["booking", "placements", "notifications"])
async def test_rows_written_before_0002_keep_their_state_up_and_down(
    database_url: str, service: str
) -> None:
    migrations = entries()[service].migrations
    db = Database(database_url)
    try:
        await upgrade(db, migrations, "0001")
        async with db.connect() as conn:
            for published in (SENT, None):
                await conn.execute(
                    sa.text(
                        "INSERT INTO outbox (event_id, topic, key, event_type, body, created_at,"
                        " published_at, attempts) VALUES (:id, 't.events', 'k', 't.echo.said',"
                        " '{}', :created, :published, 1)"
                    ),
                    {"id": str(uuid.uuid4()), "created": SENT, "published": published},
                )
        await upgrade(db, migrations)
        async with db.connect() as conn:
            statuses = (
                await conn.execute(sa.text("SELECT status FROM outbox ORDER BY seq"))
            ).scalars()
            assert list(statuses) == ["published", "pending"]

        def downgrade(connection: Connection) -> tuple[set[str], set[str], int]:
            command.downgrade(_config(migrations, connection), "0001")
            found = inspect(connection)
            columns = {c["name"] for c in found.get_columns("outbox")}
            indexes = {i["name"] or "" for i in found.get_indexes("outbox")}
            count = connection.execute(sa.text("SELECT count(*) FROM outbox")).scalar_one()
            return columns, indexes, count

        async with db.connect() as conn:
            columns, indexes, count = await conn.run_sync(downgrade)
        assert "status" not in columns and "next_attempt_at" not in columns
        assert "ix_outbox_unpublished" in indexes
        assert count == 2
    finally:
        await db.dispose()
