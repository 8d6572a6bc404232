"""The appointment use cases read the time they are given, never the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from services.booking.adapters.orm import appointments
from services.booking.application.booking import BookSlot, book_slot
from services.booking.application.lifecycle import CancelAppointment, cancel_appointment
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


async def test_an_appointment_is_stamped_with_the_times_its_use_cases_were_given(
    database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url)
    try:
        await upgrade(db, MIGRATIONS)
        await build_world(db)
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        given = midnight - timedelta(days=1)  # long before the wall clock
        cmd = BookSlot(
            SCHOOL_A,
            SessionType.INTERVIEW,
            london(first_free_morning(), 9),
            student_id(0),
            Role.STUDENT,
        )
        booked = await book_slot(cmd, task_unit_of_work(db), given)
        later = given + timedelta(hours=5)
        await cancel_appointment(
            CancelAppointment(booked.id, Role.STUDENT, None),
            task_unit_of_work(db),
            later,
            timedelta(hours=4),
        )
        async with db.read_session() as s:
            stamps = (
                await s.execute(
                    sa.select(appointments.c.created_at, appointments.c.updated_at).where(
                        appointments.c.id == booked.id
                    )
                )
            ).one()
        assert tuple(stamps) == (given, later)
    finally:
        await db.dispose()
