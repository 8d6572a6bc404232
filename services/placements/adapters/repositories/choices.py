"""Students' stated preferences and the pins staff fix, per round."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.orm import pins, preferences
from services.placements.adapters.repository import preference_from_json, preference_json
from services.placements.application.ports import PinRecord, StatedPreferences
from services.placements.domain.model import Preference
from shared.db import upsert


class PreferenceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def save(self, round_id: str, stated: StatedPreferences) -> None:
        await upsert(
            self._session,
            preferences,
            {
                "round_id": round_id,
                "student_id": stated.student_id,
                "choices": [preference_json(c) for c in stated.choices],
                "travel_limit_km": stated.travel_limit_km,
                "access_needs": stated.access_needs,
                "submitted_at": stated.submitted_at,
                "clearing": stated.clearing,
            },
            key=("round_id", "student_id"),
        )

    async def of_student(
        self, round_id: str, student_id: str, school_id: str
    ) -> StatedPreferences | None:
        row = (
            await self._session.execute(
                sa.select(preferences).where(
                    preferences.c.round_id == round_id, preferences.c.student_id == student_id
                )
            )
        ).first()
        if row is None:
            return None
        return StatedPreferences(
            student_id,
            school_id,
            [preference_from_json(c) for c in row.choices],
            row.travel_limit_km,
            list(row.access_needs),
            row.submitted_at,
            row.clearing,
        )

    async def choices_in(self, round_id: str) -> list[list[Preference]]:
        stated = await self._session.execute(
            sa.select(preferences.c.choices).where(preferences.c.round_id == round_id)
        )
        return [[preference_from_json(c) for c in choices] for choices in stated.scalars().all()]


class PinRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def save(self, round_id: str, record: PinRecord, *, pinned_by: str) -> None:
        await upsert(
            self._session,
            pins,
            {
                "round_id": round_id,
                "student_id": record.student_id,
                "placement_id": record.placement_id,
                "week": record.week,
                "source": record.source,
                "pinned_by": pinned_by,
                "pinned_at": record.pinned_at,
            },
            key=("round_id", "student_id"),
        )

    async def remove(self, round_id: str, student_id: str) -> bool:
        deleted: CursorResult[Any] = await self._session.execute(  # type: ignore[assignment]
            pins.delete().where(pins.c.round_id == round_id, pins.c.student_id == student_id)
        )
        return bool(deleted.rowcount)

    async def others_at(self, round_id: str, placement_id: str, week: str, *, besides: str) -> int:
        taken = await self._session.scalar(
            sa.select(sa.func.count())
            .select_from(pins)
            .where(
                pins.c.round_id == round_id,
                pins.c.placement_id == placement_id,
                pins.c.week == week,
                pins.c.student_id != besides,
            )
        )
        return int(taken or 0)

    async def in_round(self, round_id: str) -> list[PinRecord]:
        rows = (
            await self._session.execute(
                sa.select(pins).where(pins.c.round_id == round_id).order_by(pins.c.student_id)
            )
        ).all()
        return [
            PinRecord(r.student_id, r.placement_id, r.week, r.source, r.pinned_at) for r in rows
        ]
