"""Published allocations, the withdrawals since, their revision counters, and the matching
problem a round poses now."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.orm import (
    allocation_revisions,
    allocations,
    employers,
    placements,
    run_assignments,
    withdrawals,
)
from services.placements.adapters.repository import load_problem, withdrawn_in
from services.placements.application.ports import Allocation, EmployerPlaceCount, RoundRecord
from services.placements.domain.model import MatchingProblem
from shared.db import upsert

PUBLISHED, CONFIRMED, WITHDRAWN = "published", "confirmed", "withdrawn"
LIVE = (PUBLISHED, CONFIRMED)


def _allocation(row: Any) -> Allocation:
    return Allocation(
        id=row.id,
        round_id=row.round_id,
        student_id=row.student_id,
        school_id=row.school_id,
        placement_id=row.placement_id,
        employer_id=row.employer_id,
        week=row.week,
        rank=row.rank,
        pinned=row.pinned,
        cleared=row.cleared,
        status=row.status,
    )


class AllocationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def live(
        self,
        round_id: str,
        *,
        school_ids: frozenset[str] | None = None,
        student_id: str | None = None,
        employer_id: str | None = None,
    ) -> list[Allocation]:
        query = sa.select(allocations).where(
            allocations.c.round_id == round_id, allocations.c.status.in_(LIVE)
        )
        if school_ids is not None:
            query = query.where(allocations.c.school_id.in_(sorted(school_ids)))
        if student_id is not None:
            query = query.where(allocations.c.student_id == student_id)
        if employer_id is not None:
            query = query.where(allocations.c.employer_id == employer_id)
        rows = (await self._session.execute(query.order_by(allocations.c.student_id))).all()
        return [_allocation(r) for r in rows]

    async def add(self, new: Sequence[Allocation], published_at: datetime) -> None:
        if new:
            await self._session.execute(
                allocations.insert(),
                [
                    {
                        "id": a.id,
                        "round_id": a.round_id,
                        "student_id": a.student_id,
                        "school_id": a.school_id,
                        "placement_id": a.placement_id,
                        "employer_id": a.employer_id,
                        "week": a.week,
                        "rank": a.rank,
                        "pinned": a.pinned,
                        "cleared": a.cleared,
                        "status": a.status,
                        "published_at": published_at,
                    }
                    for a in new
                ],
            )

    async def confirm(self, ids: Collection[str], now: datetime) -> None:
        await self._session.execute(
            allocations.update()
            .where(allocations.c.id.in_(list(ids)))
            .values(status=CONFIRMED, confirmed_at=now)
        )

    async def withdraw(self, ids: Collection[str], now: datetime) -> None:
        await self._session.execute(
            allocations.update()
            .where(allocations.c.id.in_(sorted(ids)))
            .values(status=WITHDRAWN, withdrawn_at=now)
        )

    async def places_of(
        self, round_id: str, employer_ids: Collection[str]
    ) -> list[EmployerPlaceCount]:
        rows = (
            await self._session.execute(
                sa.select(
                    allocations.c.employer_id,
                    allocations.c.placement_id,
                    allocations.c.week,
                    sa.func.count(),
                )
                .where(
                    allocations.c.round_id == round_id,
                    allocations.c.employer_id.in_(list(employer_ids)),
                    allocations.c.status.in_(LIVE),
                )
                .group_by(allocations.c.employer_id, allocations.c.placement_id, allocations.c.week)
                .order_by(allocations.c.employer_id, allocations.c.placement_id, allocations.c.week)
            )
        ).all()
        return [EmployerPlaceCount(e, p, w, int(n)) for e, p, w, n in rows]

    async def exported(self, round_id: str, run_id: str | None) -> list[dict[str, Any]]:
        source: Any = run_assignments if run_id else allocations
        status = sa.literal("proposed") if run_id else allocations.c.status
        query = (
            sa.select(
                source.c.student_id,
                source.c.school_id,
                source.c.week,
                source.c.rank,
                status.label("status"),
                placements.c.reference.label("placement_ref"),
                placements.c.title.label("placement_title"),
                placements.c.sector,
                employers.c.reference.label("employer_ref"),
                employers.c.name.label("employer_name"),
                employers.c.contact_email.label("employer_contact_email"),
            )
            .join(placements, placements.c.id == source.c.placement_id)
            .join(employers, employers.c.id == placements.c.employer_id)
            .order_by(source.c.school_id, source.c.student_id)
        )
        if run_id:
            query = query.where(run_assignments.c.run_id == run_id)
        else:
            query = query.where(allocations.c.round_id == round_id, allocations.c.status.in_(LIVE))
        return [dict(r._mapping) for r in (await self._session.execute(query)).all()]


class WithdrawalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def in_round(self, round_id: str) -> tuple[set[str], set[str]]:
        return await withdrawn_in(self._session, round_id)

    async def add(
        self,
        round_id: str,
        *,
        student_id: str | None,
        placement_id: str | None,
        recorded_by: str,
        now: datetime,
    ) -> None:
        await self._session.execute(
            withdrawals.insert().values(
                id=str(uuid.uuid4()),
                round_id=round_id,
                student_id=student_id,
                placement_id=placement_id,
                recorded_by=recorded_by,
                recorded_at=now,
            )
        )


class ProblemReads:
    """The matching problem of a round, read in a few set-wise queries (`load_problem`)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def load(self, round_: RoundRecord, vetting_date: date) -> MatchingProblem:
        return await load_problem(self._session, round_, vetting_date)


class RevisionCounters:
    """The next revision of what is announced about a student's or employer's allocations."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def next(self, round_id: str, holder: str, holder_id: str) -> int:
        """Raised by the one statement that reads it, so concurrent requests never share it."""
        result = await upsert(
            self._session,
            allocation_revisions,
            {"round_id": round_id, "holder": holder, "holder_id": holder_id},
            key=("round_id", "holder", "holder_id"),
            counter="revision",
        )
        return int(result.scalar_one())
