"""Placements' copy of booking's schools and students, and the unit of work its consumer uses.

An upsert applies only when its revision is newer than the copy's (or the copy has none yet,
being made before events carried one); an erased student's tombstone keeps them out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
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
from shared.uow import UnitOfWork

# Every table holding a student's records, by `student_id`.
_STUDENT_RECORDS = (
    preferences,
    pins,
    self_found_placements,
    run_assignments,
    run_unplaced,
    allocations,
    withdrawals,
)


def _newer_than_copy(table: sa.Table) -> Callable[[Any], sa.ColumnElement[bool]]:
    return lambda incoming: sa.or_(incoming.revision > table.c.revision, table.c.revision == 0)


class DirectoryCopies:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def save_school(self, values: dict[str, Any]) -> None:
        await upsert(self._session, schools, values, where=_newer_than_copy(schools))

    async def save_student(self, values: dict[str, Any]) -> None:
        await upsert(self._session, students, values, where=_newer_than_copy(students))

    async def is_erased(self, student_id: str) -> bool:
        found = await self._session.scalar(
            sa.select(erased_students.c.id).where(erased_students.c.id == student_id)
        )
        return found is not None

    async def erase_student(self, student_id: str, revision: int, erased_at: datetime) -> None:
        """Delete every record of the student, published or not, and leave a tombstone."""
        for table in _STUDENT_RECORDS:
            await self._session.execute(sa.delete(table).where(table.c.student_id == student_id))
        await self._session.execute(
            sa.delete(allocation_revisions).where(
                allocation_revisions.c.holder == STUDENT,
                allocation_revisions.c.holder_id == student_id,
            )
        )
        await self._session.execute(sa.delete(students).where(students.c.id == student_id))
        await upsert(
            self._session,
            erased_students,
            {"id": student_id, "revision": revision, "erased_at": erased_at},
            where=lambda incoming: incoming.revision > erased_students.c.revision,
        )


class DirectoryUnitOfWork(UnitOfWork):
    """The unit of work of placements' directory consumer: the copies over its session."""

    directory: DirectoryCopies

    def _open_repositories_over(self, session: AsyncSession) -> None:
        self.directory = DirectoryCopies(session)
