"""Placements students found themselves, from registration to staff's decision."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.orm import self_found_placements, students
from services.placements.application.ports import RoundRecord


class SelfFoundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _one(self, *conditions: sa.ColumnElement[bool]) -> dict[str, Any] | None:
        row = (
            await self._session.execute(sa.select(self_found_placements).where(*conditions))
        ).first()
        return None if row is None else dict(row._mapping)

    async def of_student(self, round_id: str, student_id: str) -> dict[str, Any] | None:
        return await self._one(
            self_found_placements.c.round_id == round_id,
            self_found_placements.c.student_id == student_id,
        )

    async def get(self, round_id: str, self_found_id: str) -> dict[str, Any] | None:
        return await self._one(
            self_found_placements.c.id == self_found_id,
            self_found_placements.c.round_id == round_id,
        )

    async def save(self, record: Mapping[str, Any], *, new: bool) -> None:
        if new:
            await self._session.execute(self_found_placements.insert().values(**record))
        else:
            await self._session.execute(
                self_found_placements.update()
                .where(self_found_placements.c.id == record["id"])
                .values(**record)
            )

    async def decide(
        self, self_found_id: str, status: str, now: datetime, placement_id: str | None = None
    ) -> None:
        values: dict[str, Any] = {"status": status, "decided_at": now}
        if placement_id is not None:
            values["placement_id"] = placement_id
        await self._session.execute(
            self_found_placements.update()
            .where(self_found_placements.c.id == self_found_id)
            .values(**values)
        )

    async def in_round(
        self,
        round_: RoundRecord,
        *,
        student_ids: Collection[str] | None = None,
        school_ids: Collection[str] | None = None,
    ) -> list[dict[str, Any]]:
        query = sa.select(self_found_placements).where(
            self_found_placements.c.round_id == round_.id
        )
        if student_ids is not None:
            query = query.where(self_found_placements.c.student_id.in_(sorted(student_ids)))
        if school_ids is not None:
            query = query.join(students, students.c.id == self_found_placements.c.student_id).where(
                students.c.school_id.in_(sorted(school_ids)),
                students.c.year_group == round_.year_group,
            )
        rows = (
            await self._session.execute(query.order_by(self_found_placements.c.registered_at))
        ).all()
        return [dict(r._mapping) for r in rows]
