"""Keep placements' copy of schools and students in step with booking's directory.

Events can arrive twice or out of order, so each copy keeps the revision it was written from
and an upsert applies only when its revision is newer (or the copy has none yet, being made
before events carried one). An erasure always applies and leaves a tombstone: booking may
send a late upsert for the student, or import the same pupil again under the same id, and
neither brings them back here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.orm import (
    allocation_revisions,
    allocations,
    erased_students,
    pins,
    preferences,
    run_assignments,
    run_unplaced,
    schools,
    self_found_placements,
    students,
    withdrawals,
)
from services.placements.application.revisions import STUDENT
from shared.db import upsert
from shared.events import Envelope
from shared.events.directory import SchoolUpserted, StudentErased, StudentUpserted
from shared.messaging.consumer import Handler


def _newer_than_copy(table: sa.Table) -> Callable[[Any], sa.ColumnElement[bool]]:
    return lambda incoming: sa.or_(incoming.revision > table.c.revision, table.c.revision == 0)


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
            "revision": event.revision,
        },
        where=_newer_than_copy(schools),
    )


async def student_upserted(session: AsyncSession, _env: Envelope, event: StudentUpserted) -> None:
    erased = await session.scalar(
        sa.select(erased_students.c.id).where(erased_students.c.id == event.student_id)
    )
    if erased is not None:
        return
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
            "revision": event.revision,
            "home_district": event.home_district,
        },
        where=_newer_than_copy(students),
    )


async def student_erased(session: AsyncSession, env: Envelope, event: StudentErased) -> None:
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
    await session.execute(
        sa.delete(allocation_revisions).where(
            allocation_revisions.c.holder == STUDENT,
            allocation_revisions.c.holder_id == event.student_id,
        )
    )
    await session.execute(sa.delete(students).where(students.c.id == event.student_id))
    await upsert(
        session,
        erased_students,
        {"id": event.student_id, "revision": event.revision, "erased_at": env.occurred_at},
        where=lambda incoming: incoming.revision > erased_students.c.revision,
    )


HANDLERS: dict[str, Handler] = {
    SchoolUpserted.event_type: school_upserted,
    StudentUpserted.event_type: student_upserted,
    StudentErased.event_type: student_erased,
}
