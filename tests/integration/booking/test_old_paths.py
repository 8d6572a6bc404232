"""What still reaches the appointment use cases by their old path: erasure, with the plain
unit of work the command line opens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from services.booking.adapters.orm import appointments
from services.booking.application.booking import BookSlot, book_slot
from services.booking.application.erasure import EraseStudent, erase_student
from services.booking.bootstrap import MIGRATIONS, task_unit_of_work
from services.booking.domain.model import Role, SessionType
from shared.db import Database
from shared.migrations import upgrade
from tests.integration.booking.world import (
    SCHOOL_A,
    build_world,
    first_free_morning,
    london,
    student_id,
)


async def test_erasing_a_student_cancels_their_upcoming_appointment(
    database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url)
    try:
        await upgrade(db, MIGRATIONS)
        await build_world(db)
        now = datetime.now(UTC)
        cmd = BookSlot(
            SCHOOL_A,
            SessionType.INTERVIEW,
            london(first_free_morning(), 9),
            student_id(0),
            Role.STUDENT,
        )
        booked = await book_slot(cmd, task_unit_of_work(db), now)
        async with task_unit_of_work(db) as uow:
            erase = EraseStudent(student_id(0), Role.ADMIN)
            erased = await erase_student(
                erase, uow, now, timedelta(hours=4), token_ttl=timedelta(minutes=15)
            )
        assert erased.cancelled_appointments == 1
        async with db.read_session() as s:
            status, revision = (
                await s.execute(
                    sa.select(appointments.c.status, appointments.c.revision).where(
                        appointments.c.id == booked.id
                    )
                )
            ).one()
        assert (status, revision) == ("cancelled", 2)
    finally:
        await db.dispose()
