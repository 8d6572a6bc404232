"""Matching runs: run the engine on a round, keep every run with its measures, compare them.

A run takes seconds on a county's data, so it never runs on the event loop: the engine and its
evaluation run in a worker thread, and the service answers other requests meanwhile. The run's
row is the source of truth ("running", then "completed" with its results or "failed" with the
reason), so a client polls the run rather than holding a request open.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import asdict, dataclass, fields, is_dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.orm import matching_runs, run_assignments, run_unplaced
from services.placements.adapters.repository import RoundRecord, load_problem, load_round
from services.placements.application.errors import Conflict, NotFound, PlacementsError
from services.placements.application.rounds import require_unpublished
from services.placements.domain.matching import STAGES, InvalidPin, Progress, match
from services.placements.domain.measures import RoundReport, evaluate
from services.placements.domain.model import MatchResult
from services.placements.domain.weeks import iso_week
from shared.db import Database
from shared.logging import get_logger
from shared.uow import UnitOfWork

log = get_logger(__name__)

RUNNING, COMPLETED, FAILED = "running", "completed", "failed"
MEASURING = "measuring"
ABANDONED_AFTER = timedelta(minutes=30)


async def request_run(
    uow: UnitOfWork, round_: RoundRecord, seed: int, requested_by: str
) -> RunSummary:
    """Record a run as running; the caller starts it once this has committed."""
    require_unpublished(round_, "record a withdrawal to re-match")
    await _give_up_on_abandoned_runs(uow, round_.id)
    busy = await uow.session.scalar(
        sa.select(matching_runs.c.id).where(
            matching_runs.c.round_id == round_.id, matching_runs.c.status == RUNNING
        )
    )
    if busy is not None:
        raise Conflict(f"Run {busy} of this round is still running.", kind="run-in-progress")
    run = RunSummary(
        id=str(uuid.uuid4()),
        round_id=round_.id,
        seed=seed,
        status=RUNNING,
        started_at=datetime.now(UTC),
        finished_at=None,
        report=None,
        error=None,
    )
    await uow.session.execute(
        matching_runs.insert().values(
            id=run.id,
            round_id=run.round_id,
            seed=run.seed,
            status=run.status,
            requested_by=requested_by,
            started_at=run.started_at,
        )
    )
    await uow.commit()
    return run


async def _give_up_on_abandoned_runs(uow: UnitOfWork, round_id: str) -> None:
    """A run still "running" long after any run could finish was cut off by a restart."""
    await uow.session.execute(
        matching_runs.update()
        .where(
            matching_runs.c.round_id == round_id,
            matching_runs.c.status == RUNNING,
            matching_runs.c.started_at < datetime.now(UTC) - ABANDONED_AFTER,
        )
        .values(status=FAILED, finished_at=datetime.now(UTC), error="interrupted by a restart")
    )


def report_json(report: RoundReport) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(report):
        value = getattr(report, f.name)
        if isinstance(value, Mapping):
            value = {str(k): _plain(v) for k, v in value.items()}
        out[f.name] = value
    return out


def _plain(value: Any) -> Any:
    """A dataclass instance as a dict (for JSON); anything else as it is."""
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return value


async def execute_run(
    db: Database,
    unit_of_work: Callable[[], UnitOfWork],
    run_id: str,
    *,
    progress: Progress | None = None,
    vetting_date: date | None = None,
) -> None:
    """Match the round in a worker thread, then store the result and its measures."""
    today = vetting_date or datetime.now(UTC).date()
    try:
        async with db.read_session() as s:
            run = (
                await s.execute(sa.select(matching_runs).where(matching_runs.c.id == run_id))
            ).one()
            round_ = await load_round(s, run.round_id)
            assert round_ is not None
            problem = await load_problem(s, round_, today)
        report_stage = _with_measuring_stage(progress)
        result = await asyncio.to_thread(match, problem, run.seed, report_stage)
        report_stage(MEASURING, len(STAGES), len(STAGES))
        report = await asyncio.to_thread(evaluate, problem, result)
        report_stage(MEASURING, len(STAGES) + 1, len(STAGES))
    except (PlacementsError, InvalidPin) as exc:
        await _fail(unit_of_work, run_id, str(exc))
        return
    except Exception as exc:
        log.exception("placements.run_failed", run_id=run_id, error=type(exc).__name__)
        await _fail(unit_of_work, run_id, "The matching engine failed; see the service log.")
        return
    school_of = {s.id: s.school_id for s in problem.students}
    await _store(unit_of_work, run_id, result, report, school_of)
    log.info("placements.run_completed", run_id=run_id, placed=report.placed)


def _with_measuring_stage(progress: Progress | None) -> Progress:
    """The engine's stages, then measuring the result against the best possible, as one bar."""

    def report(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(stage, done, total + 1)

    return report


async def _store(
    unit_of_work: Callable[[], UnitOfWork],
    run_id: str,
    result: MatchResult,
    report: RoundReport,
    school_of: Mapping[str, str],
) -> None:
    async with unit_of_work() as uow:
        if result.assignments:
            await uow.session.execute(
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
            await uow.session.execute(
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
        await uow.session.execute(
            matching_runs.update()
            .where(matching_runs.c.id == run_id)
            .values(
                status=COMPLETED,
                finished_at=datetime.now(UTC),
                report=report_json(report),
                school_quotas=dict(result.school_quotas),
            )
        )
        await uow.commit()


async def _fail(unit_of_work: Callable[[], UnitOfWork], run_id: str, reason: str) -> None:
    async with unit_of_work() as uow:
        await uow.session.execute(
            matching_runs.update()
            .where(matching_runs.c.id == run_id)
            .values(status=FAILED, finished_at=datetime.now(UTC), error=reason)
        )
        await uow.commit()


class MatchingRunner:
    """Runs requested matchings in the background; shutdown waits for them to finish."""

    def __init__(self, execute: Callable[[str], Coroutine[Any, Any, None]]) -> None:
        self._execute = execute
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, run_id: str) -> None:
        task = asyncio.create_task(self._execute(run_id), name=f"matching-run-{run_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def shutdown(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


@dataclass(frozen=True)
class RunSummary:
    id: str
    round_id: str
    seed: int
    status: str
    started_at: datetime
    finished_at: datetime | None
    report: dict[str, Any] | None
    error: str | None


def require_completed(run: RunSummary) -> None:
    """Only a completed run has results to show, compare or publish."""
    if run.status != COMPLETED:
        raise Conflict(f"Run {run.id} has not completed.", kind="run-not-completed")


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


async def get_run(session: AsyncSession, round_: RoundRecord, run_id: str) -> RunSummary:
    row = (
        await session.execute(
            sa.select(matching_runs).where(
                matching_runs.c.id == run_id, matching_runs.c.round_id == round_.id
            )
        )
    ).first()
    if row is None:
        raise NotFound("No such matching run in this round.")
    return _summary(row)


async def list_runs(session: AsyncSession, round_: RoundRecord) -> list[RunSummary]:
    rows = (
        await session.execute(
            sa.select(matching_runs)
            .where(matching_runs.c.round_id == round_.id)
            .order_by(matching_runs.c.started_at)
        )
    ).all()
    return [_summary(r) for r in rows]


@dataclass(frozen=True)
class RunResults:
    assignments: list[dict[str, Any]]
    unplaced: list[dict[str, Any]]


async def run_results(
    session: AsyncSession, run_id: str, school_ids: frozenset[str] | None
) -> RunResults:
    """A completed run's assignments and unplaced students, for every school or only some."""
    placed_q = sa.select(run_assignments).where(run_assignments.c.run_id == run_id)
    unplaced_q = sa.select(run_unplaced).where(run_unplaced.c.run_id == run_id)
    if school_ids is not None:
        placed_q = placed_q.where(run_assignments.c.school_id.in_(sorted(school_ids)))
        unplaced_q = unplaced_q.where(run_unplaced.c.school_id.in_(sorted(school_ids)))
    placed = (await session.execute(placed_q.order_by(run_assignments.c.student_id))).all()
    unplaced = (await session.execute(unplaced_q.order_by(run_unplaced.c.student_id))).all()
    return RunResults(
        [{k: v for k, v in r._mapping.items() if k != "run_id"} for r in placed],
        [{k: v for k, v in r._mapping.items() if k != "run_id"} for r in unplaced],
    )


COMPARED_MEASURES = (
    "placed",
    "placed_within_preferences",
    "placed_through_clearing",
    "feasible_bound",
    "max_placeable",
    "placed_share_of_max",
    "mean_rank",
    "lowest_school_rate",
    "best_lowest_school_rate",
    "lowest_rate_ratio",
    "blocking_pairs",
)


@dataclass(frozen=True)
class RunComparison:
    measures: dict[str, dict[str, Any]]
    students_moved: int
    students_placed_only_in_first: int
    students_placed_only_in_second: int
    changes: list[dict[str, Any]]


async def compare_runs(
    session: AsyncSession, round_: RoundRecord, first_id: str, second_id: str, *, limit: int = 200
) -> RunComparison:
    """Measures side by side, and which students would go somewhere else."""
    runs = [await get_run(session, round_, run_id) for run_id in (first_id, second_id)]
    for run in runs:
        require_completed(run)
    seats = []
    for run in runs:
        rows = (
            await session.execute(
                sa.select(
                    run_assignments.c.student_id,
                    run_assignments.c.placement_id,
                    run_assignments.c.week,
                ).where(run_assignments.c.run_id == run.id)
            )
        ).all()
        seats.append({r.student_id: (r.placement_id, r.week) for r in rows})
    first, second = seats
    changes = [
        {
            "student_id": student_id,
            "first": _seat_json(first.get(student_id)),
            "second": _seat_json(second.get(student_id)),
        }
        for student_id in sorted(set(first) | set(second))
        if first.get(student_id) != second.get(student_id)
    ]
    return RunComparison(
        measures={
            name: {
                "first": (runs[0].report or {}).get(name),
                "second": (runs[1].report or {}).get(name),
            }
            for name in COMPARED_MEASURES
        },
        students_moved=sum(1 for c in changes if c["first"] and c["second"]),
        students_placed_only_in_first=sum(1 for c in changes if not c["second"]),
        students_placed_only_in_second=sum(1 for c in changes if not c["first"]),
        changes=changes[:limit],
    )


def _seat_json(seat: tuple[str, str] | None) -> dict[str, str] | None:
    return None if seat is None else {"placement_id": seat[0], "week": seat[1]}
