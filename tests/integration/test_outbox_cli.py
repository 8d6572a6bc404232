"""`signpost outbox failed|retry SERVICE` against a service's real database."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.cli import main
from services.registry import entries
from shared.db import Database
from shared.messaging.tables import outbox
from shared.migrations import upgrade

FAILED_AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def notifications_db(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SIGNPOST_ENV", "test")
    monkeypatch.setenv("SIGNPOST_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NOTIFICATIONS_DATABASE_URL", database_url)
    return database_url


def _run(url: str, work):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        db = Database(url)
        try:
            await upgrade(db, entries()["notifications"].migrations)
            async with db.session() as session:
                return await work(session)
        finally:
            await db.dispose()

    return asyncio.run(go())


def _add_rows(url: str) -> list[int]:
    async def add(session):  # type: ignore[no-untyped-def]
        seqs = []
        for n, status in enumerate(["failed", "published", "failed", "pending"]):
            result = await session.execute(
                outbox.insert()
                .values(
                    event_id=str(uuid.uuid4()),
                    topic="notifications.events",
                    key=f"aggregate-{n}",
                    event_type="notifications.reminder.sent",
                    body="{}",
                    created_at=FAILED_AT,
                    status=status,
                    attempts=5 if status == "failed" else 1,
                    last_error="MessageSizeTooLargeError" if status == "failed" else None,
                    failed_at=FAILED_AT if status == "failed" else None,
                )
                .returning(outbox.c.seq)
            )
            seqs.append(result.scalar_one())
        return seqs

    seqs: list[int] = _run(url, add)
    return seqs


def _statuses(url: str) -> list[tuple[int, str, int]]:
    async def read(session):  # type: ignore[no-untyped-def]
        rows = await session.execute(
            sa.select(outbox.c.seq, outbox.c.status, outbox.c.attempts).order_by(outbox.c.seq)
        )
        return [tuple(r) for r in rows.all()]

    statuses: list[tuple[int, str, int]] = _run(url, read)
    return statuses


def test_failed_lists_only_the_parked_rows_with_their_error_and_time(
    notifications_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first, _, third, _ = _add_rows(notifications_db)
    assert main(["outbox", "failed", "notifications"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["seq", "type", "key", "attempts", "error", "failed_at"]
    assert [line.split() for line in lines[1:]] == [
        [
            str(seq),
            "notifications.reminder.sent",
            key,
            "5",
            "MessageSizeTooLargeError",
            "2026-12-01T09:30:00+00:00",
        ]
        for seq, key in ((first, "aggregate-0"), (third, "aggregate-2"))
    ]


def test_retry_with_an_id_puts_back_only_that_row(
    notifications_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second, third, fourth = _add_rows(notifications_db)
    assert main(["outbox", "retry", "notifications", "--id", str(third)]) == 0
    assert "1 parked rows put back" in capsys.readouterr().err
    assert _statuses(notifications_db) == [
        (first, "failed", 5),
        (second, "published", 1),
        (third, "pending", 0),
        (fourth, "pending", 1),
    ]


def test_retry_without_an_id_puts_back_every_parked_row(notifications_db: str) -> None:
    _add_rows(notifications_db)
    assert main(["outbox", "retry", "notifications"]) == 0
    assert [s for _, s, _ in _statuses(notifications_db)] == [
        "pending",
        "published",
        "pending",
        "pending",
    ]


def test_retry_of_a_row_that_is_not_parked_says_so_and_changes_nothing(
    notifications_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _, published, _, _ = _add_rows(notifications_db)
    before = _statuses(notifications_db)
    assert main(["outbox", "retry", "notifications", "--id", str(published)]) == 1
    assert f"outbox row {published} is not parked; nothing was changed" in capsys.readouterr().err
    assert _statuses(notifications_db) == before
