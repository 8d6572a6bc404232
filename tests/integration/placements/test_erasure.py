"""Erasing a student in the directory removes everything placements holds about them."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from services.placements.adapters.directory_copies import DirectoryUnitOfWork
from services.placements.adapters.orm import pins, preferences, students
from services.placements.application.directory import HANDLERS
from shared.db import Database
from shared.events import Envelope, Event
from shared.events.directory import StudentErased
from tests.integration.placements.conftest import IT, SCHOOL_B, WEEK_2
from tests.integration.placements.test_employers_cli import _round_with_preferences


async def test_erasure_removes_preferences_pins_and_the_student(database_url: str) -> None:
    round_id = await _round_with_preferences(database_url)
    db = Database(database_url)
    try:
        async with db.session() as s:
            await s.execute(
                pins.insert().values(
                    round_id=round_id,
                    student_id="student-b1",
                    placement_id=IT,
                    week=WEEK_2,
                    source="staff",
                    pinned_by="ebp",
                    pinned_at=datetime.now(UTC),
                )
            )
        event = StudentErased(student_id="student-b1", school_id=SCHOOL_B)
        async with db.session() as s:
            await HANDLERS[event.event_type](
                Event(Envelope.wrap(event, key="student-b1", producer="booking"), event),
                DirectoryUnitOfWork(db, producer="placements").within(s),
            )
        async with db.read_session() as s:
            for table in (students, preferences, pins):
                column = table.c.id if table is students else table.c.student_id
                left = await s.scalar(
                    sa.select(sa.func.count()).select_from(table).where(column == "student-b1")
                )
                assert left == 0, table.name
            others = await s.scalar(sa.select(sa.func.count()).select_from(preferences))
            assert others == 5
    finally:
        await db.dispose()
