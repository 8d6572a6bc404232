"""The directory's records in and out of their tables, by table name, for the import."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import (
    accounts,
    advisers,
    consortia,
    contacts,
    providers,
    rooms,
    school_periods,
    schools,
    students,
)
from shared.db import upsert

TABLES = {
    table.name: table
    for table in (
        accounts,
        advisers,
        consortia,
        contacts,
        providers,
        rooms,
        school_periods,
        schools,
        students,
    )
}
# Ids per `IN (...)` when reading back what an import may overwrite: well under the bound
# parameter limits of both SQLite and PostgreSQL.
CHUNK = 500
_NAMED = {"coordinator": schools.c.coordinator_id, "lead": schools.c.lead_adviser_id}


class DirectoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def existing_ids(self, table: str, ids: Collection[str]) -> set[str]:
        """Those of `ids` that name a record of `table`."""
        if not ids:
            return set()
        column = TABLES[table].c.id
        found = await self._session.scalars(sa.select(column).where(column.in_(sorted(ids))))
        return set(found)

    async def stored(self, table: str, ids: Collection[str]) -> dict[str, dict[str, Any]]:
        """What `table` holds under `ids`, by id: one read per `CHUNK` ids."""
        found: dict[str, dict[str, Any]] = {}
        t = TABLES[table]
        ordered = sorted(ids)
        for n in range(0, len(ordered), CHUNK):
            rows = await self._session.execute(
                sa.select(t).where(t.c.id.in_(ordered[n : n + CHUNK]))
            )
            found.update((row.id, dict(row._mapping)) for row in rows)
        return found

    async def write(
        self, table: str, values: dict[str, Any], now: datetime, *, new: bool, counted: bool
    ) -> int | None:
        """Insert or update one record; when `counted`, raise its revision in the writing
        statement and return the new one."""
        if table != accounts.name:
            result = await upsert(
                self._session, TABLES[table], values, counter="revision" if counted else None
            )
            return int(result.scalar_one()) if counted else None
        if new:
            stmt: Any = accounts.insert().values(**values, created_at=now)
        else:
            stmt = accounts.update().where(accounts.c.id == values["id"]).values(**values)
            if counted:
                stmt = stmt.values(revision=accounts.c.revision + 1)
        if counted:
            stmt = stmt.returning(accounts.c.revision)
        result = await self._session.execute(stmt)
        return int(result.scalar_one()) if counted else None

    async def named(self, role: str) -> dict[str, str]:
        """Each school's named `coordinator` or `lead` adviser, where it has one."""
        column = _NAMED[role]
        rows = await self._session.execute(
            sa.select(schools.c.id, column.label("person")).where(column.is_not(None))
        )
        return {row.id: row.person for row in rows}

    async def name_coordinator(self, school_id: str, staff_id: str) -> None:
        """Name `staff_id` the school's coordinator, unless it has one already."""
        await self._session.execute(
            schools.update()
            .where(schools.c.id == school_id, schools.c.coordinator_id.is_(None))
            .values(coordinator_id=staff_id)
        )

    async def name_lead(self, school_id: str, adviser_id: str) -> None:
        await self._session.execute(
            schools.update().where(schools.c.id == school_id).values(lead_adviser_id=adviser_id)
        )

    async def school_of_student(self, student_id: str) -> str | None:
        """The school of `student_id`, or None when there is no such student."""
        found: str | None = await self._session.scalar(
            sa.select(students.c.school_id).where(students.c.id == student_id)
        )
        return found
