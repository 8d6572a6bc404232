"""Published outbox rows and inbox rows past retention are purged; nothing else is."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.notifications.bootstrap import create_app
from services.notifications.settings import NotificationsSettings
from shared.db import Database
from shared.http.app import DATABASE, purge_job
from shared.messaging import maintenance
from shared.messaging.maintenance import purge
from shared.messaging.tables import inbox, outbox
from tests.integration.messaging_support import messaging_database
from tests.support import app_client, settings_for

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def add_rows(db: Database, now: datetime) -> None:
    old, recent = now - timedelta(days=15), now - timedelta(days=13)
    rows = [
        # (name, status, created_at, published_at)
        ("old-published", "published", old, old),
        ("recent-published", "published", old, recent),
        ("old-pending", "pending", old, None),
        ("old-failed", "failed", old, None),
    ]
    async with db.session() as s:
        for name, status, created, published in rows:
            await s.execute(
                outbox.insert().values(
                    event_id=str(uuid.uuid4()),
                    topic="t.events",
                    key=name,
                    event_type="t.echo.said",
                    body="{}",
                    created_at=created,
                    published_at=published,
                    status=status,
                )
            )
        for name, processed in (("old", old), ("recent", recent), ("older", old - timedelta(1))):
            await s.execute(
                inbox.insert().values(
                    consumer="c", event_id=name, event_type="t.echo.said", processed_at=processed
                )
            )


async def left(db: Database) -> tuple[list[str], list[str]]:
    async with db.read_session() as s:
        keys = (await s.execute(sa.select(outbox.c.key).order_by(outbox.c.seq))).scalars()
        ids = (await s.execute(sa.select(inbox.c.event_id).order_by(inbox.c.event_id))).scalars()
        return list(keys), list(ids)


async def test_the_purge_deletes_only_old_published_outbox_rows_and_old_inbox_rows(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(maintenance, "PURGE_BATCH", 1)  # several batches, as on a big table
    async with messaging_database(database_url) as db:
        await add_rows(db, NOW)
        purged = await purge(db, timedelta(days=14), now=NOW)
        assert (purged.outbox, purged.inbox) == (1, 2)
        assert await left(db) == (["recent-published", "old-pending", "old-failed"], ["recent"])


async def test_a_services_retention_job_purges_its_own_database(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    settings = settings_for(
        NotificationsSettings,
        database_url=database_url,
        broker=broker,
        data_dir=tmp_path,
        OUTBOX_RETENTION_DAYS="14",
    )
    async with app_client(create_app, settings) as client:
        db = client.app[DATABASE]
        await add_rows(db, datetime.now(UTC))
        await purge_job(settings).run(client.app)
        assert await left(db) == (["recent-published", "old-pending", "old-failed"], ["recent"])
