"""Keep placements' copy of schools and students in step with booking's directory."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.orm import (
    allocations,
    pins,
    preferences,
    run_assignments,
    run_unplaced,
    schools,
    self_found_placements,
    students,
    withdrawals,
)
from shared.db import upsert
from shared.events import Envelope
from shared.events.directory import SchoolUpserted, StudentErased, StudentUpserted
from shared.messaging.consumer import Handler


async def school_upserted(session: AsyncSession, _env: Envelope, event: SchoolUpserted) -> None:
    await upsert(
        session,
        schools,
        {
            "id": event.school_id,
            "name": event.name,
            "postcode_district": event.postcode_district,
            "latitude": event.latitude,
            "longitude": event.longitude,
        },
    )


async def student_upserted(session: AsyncSession, _env: Envelope, event: StudentUpserted) -> None:
    await upsert(
        session,
        students,
        {
            "id": event.student_id,
            "school_id": event.school_id,
            "year_group": event.year_group,
            "date_of_birth": event.date_of_birth,
            "disadvantaged": event.disadvantaged,
            "sen": event.sen,
            "home_district": event.home_district,
        },
    )


async def student_erased(session: AsyncSession, _env: Envelope, event: StudentErased) -> None:
    """Erasure removes every record placements holds about the student, published or not."""
    for table in (
        preferences,
        pins,
        self_found_placements,
        run_assignments,
        run_unplaced,
        allocations,
        withdrawals,
    ):
        await session.execute(sa.delete(table).where(table.c.student_id == event.student_id))
    await session.execute(sa.delete(students).where(students.c.id == event.student_id))


HANDLERS: dict[str, Handler] = {
    SchoolUpserted.event_type: school_upserted,
    StudentUpserted.event_type: student_upserted,
    StudentErased.event_type: student_erased,
}
