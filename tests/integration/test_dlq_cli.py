"""`signpost dlq list|replay` on the real broker and database, through placements' consumer."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from services.cli import main
from services.placements.adapters.orm import students
from services.placements.application import directory
from services.placements.application.directory import DirectoryUnit
from services.placements.bootstrap import create_app
from services.placements.settings import PlacementsSettings
from shared.db import Database
from shared.events import Envelope, Event
from shared.events.directory import StudentUpserted
from shared.messaging.dead_letters import read_dead_letters
from shared.messaging.kafka import KafkaPublisher
from tests.conftest import eventually
from tests.support import app_client

CONSUMER = "placements.directory"


@pytest.fixture
def placements_env(
    database_url: str, broker: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    monkeypatch.setenv("SIGNPOST_ENV", "test")
    monkeypatch.setenv("SIGNPOST_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PLACEMENTS_DATABASE_URL", database_url)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker)
    monkeypatch.setenv("KAFKA_SESSION_TIMEOUT_MS", "6000")
    monkeypatch.setenv("KAFKA_GROUP_PREFIX", f"test-{uuid.uuid4().hex[:8]}-")
    return database_url


async def _dead_letter_with_a_broken_handler(broker: str, student_id: str) -> None:
    """Run placements with a student handler that fails until the event is dead-lettered."""
    settings = PlacementsSettings.from_env()
    async with app_client(create_app, settings):
        event = Envelope.wrap(
            StudentUpserted(student_id=student_id, school_id="school-1", year_group=10),
            key=student_id,
            producer="booking",
        )
        publisher = await KafkaPublisher.connect(broker, client_id="dlq-test")
        try:
            await (await publisher.publish("directory.events", student_id, event.to_bytes()))
        finally:
            await publisher.close()

        async def dead_lettered() -> bool:
            letters = await read_dead_letters(broker, CONSUMER)
            return any(letter.key == student_id for letter in letters)

        await eventually(dead_lettered, timeout=60)


def _student_rows(url: str, student_id: str) -> int:
    async def count() -> int:
        db = Database(url)
        try:
            async with db.read_session() as s:
                query = sa.select(sa.func.count()).where(students.c.id == student_id)
                return int(await s.scalar(query.select_from(students)) or 0)
        finally:
            await db.dispose()

    return asyncio.run(count())


def test_a_dead_letter_is_listed_and_replayed_once_its_handler_is_fixed(
    placements_env: str, broker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    student_id = f"student-{uuid.uuid4().hex[:8]}"
    since = datetime.now(UTC).isoformat()

    fixed = directory.HANDLERS[StudentUpserted.event_type]

    async def broken(event: Event[Any], uow: DirectoryUnit) -> None:
        # Fails for this test's student only: the shared broker's earlier directory events,
        # which a new consumer group reads from the start, are handled as usual and quickly.
        if event.payload.student_id == student_id:
            raise RuntimeError("a bug in this build")
        await fixed(event, uow)

    directory.HANDLERS[StudentUpserted.event_type] = broken
    try:
        asyncio.run(_dead_letter_with_a_broken_handler(broker, student_id))
    finally:
        directory.HANDLERS[StudentUpserted.event_type] = fixed
    assert _student_rows(placements_env, student_id) == 0
    capsys.readouterr()

    assert main(["dlq", "list", "placements"]) == 0
    listed = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert listed[0] == ["when", "consumer", "type", "key", "reason", "detail"]
    ours = [row for row in listed if row[3] == student_id]
    assert len(ours) == 1
    when, consumer, event_type, _key, reason, detail = ours[0]
    assert (consumer, event_type, reason, detail) == (
        CONSUMER,
        StudentUpserted.event_type,
        "handler_failed",
        "RuntimeError",
    )
    assert datetime.fromisoformat(when) >= datetime.fromisoformat(since)

    replay = ["dlq", "replay", "placements", "--type", StudentUpserted.event_type]
    # Another test's events dead-lettered on the shared broker since then would be replayed
    # too: every one matching is replayed, each exactly once.
    assert main([*replay, "--since", since]) == 0
    first = capsys.readouterr().out
    assert re.match(r"replayed (\d+): \1 processed, 0 duplicate, 0 dead-lettered again", first)
    assert _student_rows(placements_env, student_id) == 1

    assert main([*replay, "--since", since, "--consumer", CONSUMER]) == 0
    again = capsys.readouterr().out
    assert re.match(r"replayed (\d+): 0 processed, \1 duplicate, 0 dead-lettered again", again)
    assert _student_rows(placements_env, student_id) == 1


@pytest.mark.parametrize(
    "argv, fault",
    [
        (["dlq", "list", "payroll"], "invalid choice: 'payroll'"),
        (["dlq", "replay", "placements", "--since", "last tuesday"], "--since: 'last tuesday'"),
    ],
)
def test_bad_dlq_arguments_are_refused_with_exit_status_2(
    argv: list[str], fault: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert fault in capsys.readouterr().err


def test_an_unknown_consumer_is_named_with_the_ones_there_are(
    placements_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dlq", "replay", "placements", "--consumer", "placements.payroll"]) == 2
    err = capsys.readouterr().err
    assert "placements has no consumer 'placements.payroll'" in err
    assert CONSUMER in err
