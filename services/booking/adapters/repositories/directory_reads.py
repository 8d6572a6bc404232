"""The directory as its API shows it: schools with their rooms and calendars, a student."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import rooms, school_periods, schools, students

SCHOOL_COLUMNS = (
    schools.c.id,
    schools.c.name,
    schools.c.consortium_id,
    schools.c.time_zone,
    schools.c.day_starts,
    schools.c.day_ends,
    schools.c.lead_adviser_id,
    schools.c.coordinator_id,
)


class DirectoryReads:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def schools(self, school_ids: Collection[str] | None) -> list[dict[str, Any]]:
        """Every school (`None`) or these, by name."""
        query = sa.select(*SCHOOL_COLUMNS)
        if school_ids is not None:
            query = query.where(schools.c.id.in_(sorted(school_ids)))
        rows = (await self._session.execute(query.order_by(schools.c.name))).all()
        return [dict(r._mapping) for r in rows]

    async def school(self, school_id: str) -> dict[str, Any] | None:
        """The school with its `rooms` and its calendar's `periods`; None if there is none."""
        row = (
            await self._session.execute(sa.select(*SCHOOL_COLUMNS).where(schools.c.id == school_id))
        ).first()
        if row is None:
            return None
        found_rooms = await self._session.execute(
            sa.select(rooms.c.name, rooms.c.confidential).where(rooms.c.school_id == school_id)
        )
        found_periods = await self._session.execute(
            sa.select(
                school_periods.c.kind,
                school_periods.c.first_day,
                school_periods.c.last_day,
                school_periods.c.starts,
                school_periods.c.ends,
            )
            .where(school_periods.c.school_id == school_id)
            .order_by(school_periods.c.first_day)
        )
        return dict(row._mapping) | {
            "rooms": [dict(r._mapping) for r in found_rooms],
            "periods": [dict(p._mapping) for p in found_periods],
        }

    async def student(self, student_id: str) -> dict[str, Any] | None:
        row = (
            await self._session.execute(
                sa.select(
                    students.c.id,
                    students.c.school_id,
                    students.c.year_group,
                    students.c.display_name,
                    students.c.priority_flags,
                ).where(students.c.id == student_id)
            )
        ).first()
        return None if row is None else dict(row._mapping)
