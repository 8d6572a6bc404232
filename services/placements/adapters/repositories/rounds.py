"""Rounds, and what placements' copy of the directory says about schools and students."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.orm import allocation_rounds, round_schools, schools, students
from services.placements.adapters.repository import load_round, load_rounds
from services.placements.application.ports import Enrolment, RoundRecord


class RoundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, round_id: str, *, for_update: bool = False) -> RoundRecord | None:
        return await load_round(self._session, round_id, for_update=for_update)

    async def every(self) -> list[RoundRecord]:
        return await load_rounds(self._session, sa.true())

    async def of_ebp(self, ebp_id: str) -> list[RoundRecord]:
        return await load_rounds(self._session, allocation_rounds.c.ebp_id == ebp_id)

    async def including_schools(self, school_ids: Collection[str]) -> list[RoundRecord]:
        return await load_rounds(
            self._session,
            allocation_rounds.c.id.in_(
                sa.select(round_schools.c.round_id).where(
                    round_schools.c.school_id.in_(sorted(school_ids))
                )
            ),
        )

    async def add(self, record: RoundRecord, *, opened_by: str) -> None:
        await self._session.execute(
            allocation_rounds.insert().values(
                id=record.id,
                ebp_id=record.ebp_id,
                name=record.name,
                year_group=record.year_group,
                deadline=record.deadline,
                created_by=opened_by,
                created_at=record.created_at,
                clearing_default=record.clearing_default,
            )
        )
        await self._session.execute(
            round_schools.insert(),
            [
                {"round_id": record.id, "school_id": school_id, "weeks": list(weeks)}
                for school_id, weeks in record.school_weeks.items()
            ],
        )

    async def claim_publication(self, round_id: str, run_id: str, now: datetime) -> bool:
        """Mark the round published from `run_id`, unless something published it first."""
        claimed: CursorResult[Any] = await self._session.execute(  # type: ignore[assignment]
            allocation_rounds.update()
            .where(allocation_rounds.c.id == round_id, allocation_rounds.c.published_at.is_(None))
            .values(published_run_id=run_id, published_at=now)
        )
        return bool(claimed.rowcount)


class DirectoryReads:
    """Placements' copy of the directory's schools and students."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def known_schools(self, school_ids: Collection[str]) -> set[str]:
        found = await self._session.execute(
            sa.select(schools.c.id).where(schools.c.id.in_(list(school_ids)))
        )
        return set(found.scalars())

    async def enrolment(self, student_id: str) -> Enrolment | None:
        row = (
            await self._session.execute(
                sa.select(students.c.school_id, students.c.year_group).where(
                    students.c.id == student_id
                )
            )
        ).first()
        return None if row is None else Enrolment(str(row.school_id), int(row.year_group))
