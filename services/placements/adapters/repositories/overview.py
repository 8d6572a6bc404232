"""What the staff and student pages read beside the use cases: school and placement names, a
partnership's employers with their placements, and whose references an import may use."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.orm import employers, placements, preferences, schools
from services.placements.application.ports import ListedEmployer, ListedPlacement


class OverviewReads:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def school_names(self, school_ids: Iterable[str]) -> dict[str, str]:
        ids = sorted(set(school_ids))
        if not ids:
            return {}
        rows = await self._session.execute(
            sa.select(schools.c.id, schools.c.name).where(schools.c.id.in_(ids))
        )
        return {r.id: r.name for r in rows}

    async def all_schools(self, school_ids: Iterable[str] | None) -> dict[str, str]:
        query = sa.select(schools.c.id, schools.c.name).order_by(schools.c.name)
        if school_ids is not None:
            query = query.where(schools.c.id.in_(sorted(set(school_ids))))
        return {r.id: r.name for r in await self._session.execute(query)}

    async def employers_of(
        self, ebp_id: str | None
    ) -> tuple[list[ListedEmployer], list[ListedPlacement]]:
        query = sa.select(employers).order_by(employers.c.name, employers.c.reference)
        if ebp_id is not None:
            query = query.where(sa.or_(employers.c.ebp_id.is_(None), employers.c.ebp_id == ebp_id))
        found = [
            ListedEmployer(
                r.id,
                r.reference,
                r.name,
                r.postcode_district,
                r.health_safety_expires,
                r.insurance_expires,
            )
            for r in await self._session.execute(query)
        ]
        ids = [e.id for e in found]
        rows: list[Any] = (
            list(
                await self._session.execute(
                    sa.select(placements)
                    .where(placements.c.employer_id.in_(ids), placements.c.self_found.is_(False))
                    .order_by(placements.c.reference)
                )
            )
            if ids
            else []
        )
        listed = [
            ListedPlacement(
                r.id, r.reference, r.employer_id, r.title, r.sector, sum(r.capacity.values())
            )
            for r in rows
        ]
        return found, listed

    async def placement_names(self, placement_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        ids = sorted(set(placement_ids))
        if not ids:
            return {}
        rows = await self._session.execute(
            sa.select(placements.c.id, placements.c.title, employers.c.name)
            .join(employers, employers.c.id == placements.c.employer_id)
            .where(placements.c.id.in_(ids))
        )
        return {r.id: (r.title, r.name) for r in rows}

    async def preference_count(self, round_id: str) -> int:
        found = await self._session.scalar(
            sa.select(sa.func.count())
            .select_from(preferences)
            .where(preferences.c.round_id == round_id)
        )
        return int(found or 0)

    async def references_of_others(
        self, ebp_id: str, employer_refs: Iterable[str], placement_refs: Iterable[str]
    ) -> tuple[set[str], set[str]]:
        others = sa.and_(employers.c.ebp_id.is_not(None), employers.c.ebp_id != ebp_id)
        taken_employers = set(
            (
                await self._session.execute(
                    sa.select(employers.c.reference).where(
                        employers.c.reference.in_(sorted(set(employer_refs))), others
                    )
                )
            ).scalars()
        )
        taken_placements = set(
            (
                await self._session.execute(
                    sa.select(placements.c.reference)
                    .join(employers, employers.c.id == placements.c.employer_id)
                    .where(placements.c.reference.in_(sorted(set(placement_refs))), others)
                )
            ).scalars()
        )
        return taken_employers, taken_placements
