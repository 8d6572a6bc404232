"""The catalogue: employers and their placements, as matching and the import need them."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.orm import employers, placements
from services.placements.adapters.repository import catalogue_query, placement_from_row
from services.placements.application.ports import CatalogueEntry
from services.placements.domain.model import Placement
from shared.db import upsert


class CatalogueRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def entries(self, ebp_id: str | None) -> list[CatalogueEntry]:
        rows = (await self._session.execute(catalogue_query(ebp_id))).all()
        return [
            CatalogueEntry(
                placement=placement_from_row(r),
                employer_name=r.employer_name,
                title=r.title,
                postcode_district=r.postcode_district,
                capacity=r.capacity,
                accessibility=list(r.accessibility),
            )
            for r in rows
        ]

    async def placement(self, ebp_id: str | None, placement_id: str) -> Placement | None:
        row = (
            await self._session.execute(
                catalogue_query(ebp_id).where(placements.c.id == placement_id)
            )
        ).first()
        return None if row is None else placement_from_row(row)

    async def sectors(self, placement_ids: Collection[str]) -> dict[str, str]:
        rows = await self._session.execute(
            sa.select(placements.c.id, placements.c.sector).where(
                placements.c.id.in_(sorted(placement_ids))
            )
        )
        return {r.id: r.sector for r in rows.all()}

    async def employers_by_id(self) -> dict[str, dict[str, Any]]:
        rows = (await self._session.execute(sa.select(employers))).all()
        return {r.id: dict(r._mapping) for r in rows}

    async def placements_by_id(self) -> dict[str, dict[str, Any]]:
        rows = (await self._session.execute(sa.select(placements))).all()
        return {r.id: dict(r._mapping) for r in rows}

    async def save_employer(self, values: Mapping[str, Any]) -> int:
        written = await upsert(self._session, employers, dict(values), counter="revision")
        return int(written.scalar_one())

    async def save_placement(self, values: Mapping[str, Any]) -> None:
        await upsert(self._session, placements, dict(values))

    async def add_employer(self, values: Mapping[str, Any]) -> None:
        await self._session.execute(employers.insert().values(**values))

    async def add_placement(self, values: Mapping[str, Any]) -> None:
        await self._session.execute(placements.insert().values(**values))

    async def imported(self) -> list[dict[str, Any]]:
        query = (
            sa.select(
                employers,
                placements.c.reference.label("placement_ref"),
                placements.c.title,
                placements.c.sector,
                placements.c.capacity,
                placements.c.minimum_age,
                placements.c.accessibility,
            )
            .join(placements, placements.c.employer_id == employers.c.id)
            .where(placements.c.self_found.is_(False))
            .order_by(employers.c.reference, placements.c.reference)
        )
        return [dict(r._mapping) for r in (await self._session.execute(query)).all()]
