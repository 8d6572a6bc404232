"""The demo round: placements learns the directory from booking's announcements, then opens a
Year 11 round with everyone's choices and one completed matching run, once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import sqlalchemy as sa

from services.placements import demo
from services.placements.adapters.orm import (
    allocation_rounds,
    matching_runs,
    preferences,
    students,
)
from services.placements.bootstrap import MIGRATIONS
from services.placements.demo_round import DEMO_YEAR_GROUP, load_directory, seed_round
from shared.db import Database
from shared.events import Envelope, EventPayload
from shared.events.directory import SchoolUpserted, StudentUpserted
from shared.migrations import upgrade

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
"""Before the demo weeks (2027-W25 onwards), whenever the test runs."""
SCHOOLS = {"demo-school-1": "ME14", "demo-school-2": "CT1"}


def _body(payload: EventPayload, key: str) -> str:
    """An event as booking's outbox holds it."""
    return Envelope.wrap(payload, key=key, producer="booking").model_dump_json()


def _announcements() -> list[str]:
    bodies = [
        _body(
            SchoolUpserted(
                school_id=school_id,
                name=f"School {n}",
                day_starts=time(8, 30),
                day_ends=time(15, 30),
                postcode_district=district,
                revision=1,
            ),
            school_id,
        )
        for n, (school_id, district) in enumerate(SCHOOLS.items())
    ]
    for n in range(12):
        school_id = list(SCHOOLS)[n % 2]
        year_group = DEMO_YEAR_GROUP if n < 10 else 10
        bodies.append(
            _body(
                StudentUpserted(
                    student_id=f"demo-student-{n}",
                    school_id=school_id,
                    year_group=year_group,
                    date_of_birth=date(2011, 1, 1) if year_group == DEMO_YEAR_GROUP else None,
                    revision=1,
                ),
                f"demo-student-{n}",
            )
        )
    return bodies


async def _count(db: Database, table: sa.Table) -> int:
    async with db.read_session() as s:
        return int(await s.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


async def test_the_demo_round_is_seeded_once_with_a_completed_run(database_url: str) -> None:
    db = Database(database_url)
    try:
        await upgrade(db, MIGRATIONS)
        await demo.seed(db, employers_total=20, today=NOW.date())
        assert await load_directory(db, _announcements()) == 2 + 10, "Year 10 is left out"
        assert await _count(db, students) == 10

        assert await seed_round(db, clock=lambda: NOW)
        assert not await seed_round(db, clock=lambda: NOW), "a second call changes nothing"

        assert await _count(db, allocation_rounds) == 1
        assert await _count(db, preferences) == 10
        async with db.read_session() as s:
            (run,) = (await s.execute(sa.select(matching_runs))).all()
        assert (run.status, run.error, run.started_at.replace(tzinfo=UTC)) == (
            "completed",
            None,
            NOW,
        )
        assert run.report["placed"] > 0
    finally:
        await db.dispose()
