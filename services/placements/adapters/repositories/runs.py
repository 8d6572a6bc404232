"""Matching runs: their rows, the seats each run gave, the students it left unplaced, and how
far a running one has got."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.orm import (
    matching_runs,
    placements,
    run_assignments,
    run_unplaced,
)
from services.placements.application.ports import (
    RunAssignment,
    RunBasis,
    RunProgress,
    RunResults,
    RunSummary,
)
from services.placements.domain.model import MatchResult
from services.placements.domain.weeks import iso_week

RUNNING, COMPLETED, FAILED = "running", "completed", "failed"


def _summary(row: Any) -> RunSummary:
    return RunSummary(
        row.id,
        row.round_id,
        row.seed,
        row.status,
        row.started_at,
        row.finished_at,
        row.report,
        row.error,
    )


class RunRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def running(self, round_id: str) -> str | None:
        return await self._session.scalar(
            sa.select(matching_runs.c.id).where(
                matching_runs.c.round_id == round_id, matching_runs.c.status == RUNNING
            )
        )

    async def fail_started_before(self, round_id: str, before: datetime, now: datetime) -> None:
        await self._session.execute(
            matching_runs.update()
            .where(
                matching_runs.c.round_id == round_id,
                matching_runs.c.status == RUNNING,
                matching_runs.c.started_at < before,
            )
            .values(status=FAILED, finished_at=now, error="interrupted by a restart")
        )

    async def add(self, run: RunSummary, *, requested_by: str) -> None:
        await self._session.execute(
            matching_runs.insert().values(
                id=run.id,
                round_id=run.round_id,
                seed=run.seed,
                status=run.status,
                requested_by=requested_by,
                started_at=run.started_at,
            )
        )

    async def by_id(self, run_id: str) -> RunSummary | None:
        row = (
            await self._session.execute(
                sa.select(matching_runs).where(matching_runs.c.id == run_id)
            )
        ).first()
        return None if row is None else _summary(row)

    async def in_round(self, round_id: str) -> list[RunSummary]:
        rows = (
            await self._session.execute(
                sa.select(matching_runs)
                .where(matching_runs.c.round_id == round_id)
                .order_by(matching_runs.c.started_at)
            )
        ).all()
        return [_summary(r) for r in rows]

    async def complete(
        self,
        run_id: str,
        result: MatchResult,
        report: dict[str, Any],
        school_of: Mapping[str, str],
        now: datetime,
    ) -> None:
        if result.assignments:
            await self._session.execute(
                run_assignments.insert(),
                [
                    {
                        "run_id": run_id,
                        "student_id": a.student_id,
                        "school_id": school_of[a.student_id],
                        "placement_id": a.placement_id,
                        "week": iso_week(a.week),
                        "rank": a.rank,
                        "pinned": a.pinned,
                        "cleared": a.cleared,
                    }
                    for a in result.assignments
                ],
            )
        if result.unplaced:
            await self._session.execute(
                run_unplaced.insert(),
                [
                    {
                        "run_id": run_id,
                        "student_id": u.student_id,
                        "school_id": school_of[u.student_id],
                        "reason": u.reason.value,
                    }
                    for u in result.unplaced
                ],
            )
        await self._session.execute(
            matching_runs.update()
            .where(matching_runs.c.id == run_id)
            .values(
                status=COMPLETED,
                finished_at=now,
                report=report,
                school_quotas=dict(result.school_quotas),
            )
        )

    async def fail(self, run_id: str, reason: str, now: datetime) -> None:
        await self._session.execute(
            matching_runs.update()
            .where(matching_runs.c.id == run_id)
            .values(status=FAILED, finished_at=now, error=reason)
        )

    async def basis(self, run_id: str) -> RunBasis:
        run = (
            await self._session.execute(
                sa.select(matching_runs.c.seed, matching_runs.c.school_quotas).where(
                    matching_runs.c.id == run_id
                )
            )
        ).one()
        return RunBasis(run.seed, run.school_quotas or {})

    async def assignments(self, run_id: str) -> list[RunAssignment]:
        rows = (
            await self._session.execute(
                sa.select(run_assignments, placements.c.employer_id, placements.c.sector)
                .join(placements, placements.c.id == run_assignments.c.placement_id)
                .where(run_assignments.c.run_id == run_id)
                .order_by(run_assignments.c.student_id)
            )
        ).all()
        return [
            RunAssignment(
                r.student_id,
                r.school_id,
                r.placement_id,
                r.employer_id,
                r.sector,
                r.week,
                r.rank,
                r.pinned,
                r.cleared,
            )
            for r in rows
        ]

    async def seats(self, run_id: str) -> dict[str, tuple[str, str]]:
        rows = (
            await self._session.execute(
                sa.select(
                    run_assignments.c.student_id,
                    run_assignments.c.placement_id,
                    run_assignments.c.week,
                ).where(run_assignments.c.run_id == run_id)
            )
        ).all()
        return {r.student_id: (r.placement_id, r.week) for r in rows}

    async def results(self, run_id: str, school_ids: frozenset[str] | None) -> RunResults:
        placed_q = sa.select(run_assignments).where(run_assignments.c.run_id == run_id)
        unplaced_q = sa.select(run_unplaced).where(run_unplaced.c.run_id == run_id)
        if school_ids is not None:
            placed_q = placed_q.where(run_assignments.c.school_id.in_(sorted(school_ids)))
            unplaced_q = unplaced_q.where(run_unplaced.c.school_id.in_(sorted(school_ids)))
        s = self._session
        placed = (await s.execute(placed_q.order_by(run_assignments.c.student_id))).all()
        unplaced = (await s.execute(unplaced_q.order_by(run_unplaced.c.student_id))).all()
        return RunResults(
            [{k: v for k, v in r._mapping.items() if k != "run_id"} for r in placed],
            [{k: v for k, v in r._mapping.items() if k != "run_id"} for r in unplaced],
        )


class RunProgressRepository:
    """The stage a running matching has reached, on its row, for a page on any replica."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def of_run(self, round_id: str, run_id: str) -> RunProgress | None:
        row = (
            await self._session.execute(
                sa.select(
                    matching_runs.c.id,
                    matching_runs.c.round_id,
                    matching_runs.c.status,
                    matching_runs.c.stage,
                    matching_runs.c.progress_done,
                    matching_runs.c.progress_total,
                ).where(matching_runs.c.id == run_id, matching_runs.c.round_id == round_id)
            )
        ).first()
        if row is None:
            return None
        return RunProgress(
            row.id,
            row.round_id,
            row.status,
            row.stage,
            row.progress_done or 0,
            row.progress_total or 0,
        )

    async def record(self, run_id: str, stage: str, done: int, total: int) -> None:
        """Note how far a run has got (only its status says whether it is still running)."""
        await self._session.execute(
            matching_runs.update()
            .where(matching_runs.c.id == run_id)
            .values(stage=stage[:40], progress_done=done, progress_total=total)
        )
