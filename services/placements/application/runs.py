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
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass, fields, is_dataclass
from datetime import date, datetime, timedelta
from typing import Any

from services.placements.application.errors import Conflict, NotFound, PlacementsError
from services.placements.application.ports import (
    Clock,
    PlacementsRepositories,
    PlacementsUnitOfWork,
    RoundRecord,
    RunResults,
    RunSummary,
    UnitOfWorkFactory,
)
from services.placements.application.rounds import require_unpublished
from services.placements.domain.matching import STAGES, InvalidPin, Progress, match
from services.placements.domain.measures import RoundReport, evaluate
from services.placements.domain.model import MatchResult
from shared.logging import get_logger

log = get_logger(__name__)

RUNNING, COMPLETED, FAILED = "running", "completed", "failed"
MEASURING = "measuring"
ABANDONED_AFTER = timedelta(minutes=30)

ReadsFactory = Callable[[], AbstractAsyncContextManager[PlacementsRepositories]]
"""Placements' repositories over a read session, as the composition root opens them."""


@dataclass(frozen=True)
class RequestRun:
    round_: RoundRecord
    """The round as the transaction read (and locked) it."""
    seed: int
    requested_by: str


async def request_run(cmd: RequestRun, uow: PlacementsUnitOfWork, now: datetime) -> RunSummary:
    """Record a run as running; the caller starts it once this has committed."""
    round_ = cmd.round_
    require_unpublished(round_, "record a withdrawal to re-match")
    # A run still "running" long after any run could finish was cut off by a restart.
    await uow.runs.fail_started_before(round_.id, now - ABANDONED_AFTER, now)
    busy = await uow.runs.running(round_.id)
    if busy is not None:
        raise Conflict(f"Run {busy} of this round is still running.", kind="run-in-progress")
    run = RunSummary(
        id=str(uuid.uuid4()),
        round_id=round_.id,
        seed=cmd.seed,
        status=RUNNING,
        started_at=now,
        finished_at=None,
        report=None,
        error=None,
    )
    await uow.runs.add(run, requested_by=cmd.requested_by)
    await uow.commit()
    return run


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
    reads: ReadsFactory,
    unit_of_work: UnitOfWorkFactory,
    run_id: str,
    clock: Clock,
    *,
    progress: Progress | None = None,
    vetting_date: date | None = None,
) -> None:
    """Match the round in a worker thread, then store the result and its measures."""
    today = vetting_date or clock().date()
    try:
        async with reads() as r:
            run = await r.runs.by_id(run_id)
            assert run is not None
            round_ = await r.rounds.get(run.round_id)
            assert round_ is not None
            problem = await r.problems.load(round_, today)
        report_stage = _with_measuring_stage(progress)
        result = await asyncio.to_thread(match, problem, run.seed, report_stage)
        report_stage(MEASURING, len(STAGES), len(STAGES))
        report = await asyncio.to_thread(evaluate, problem, result)
        report_stage(MEASURING, len(STAGES) + 1, len(STAGES))
    except (PlacementsError, InvalidPin) as exc:
        await _fail(unit_of_work, run_id, str(exc), clock)
        return
    except Exception as exc:
        log.exception("placements.run_failed", run_id=run_id, error=type(exc).__name__)
        await _fail(unit_of_work, run_id, "The matching engine failed; see the service log.", clock)
        return
    school_of = {s.id: s.school_id for s in problem.students}
    await _store(unit_of_work, run_id, result, report, school_of, clock)
    log.info("placements.run_completed", run_id=run_id, placed=report.placed)


def _with_measuring_stage(progress: Progress | None) -> Progress:
    """The engine's stages, then measuring the result against the best possible, as one bar."""

    def report(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(stage, done, total + 1)

    return report


async def _store(
    unit_of_work: UnitOfWorkFactory,
    run_id: str,
    result: MatchResult,
    report: RoundReport,
    school_of: Mapping[str, str],
    clock: Clock,
) -> None:
    async with unit_of_work() as uow:
        await uow.runs.complete(run_id, result, report_json(report), school_of, clock())
        await uow.commit()


async def _fail(unit_of_work: UnitOfWorkFactory, run_id: str, reason: str, clock: Clock) -> None:
    async with unit_of_work() as uow:
        await uow.runs.fail(run_id, reason, clock())
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


def require_completed(run: RunSummary) -> None:
    """Only a completed run has results to show, compare or publish."""
    if run.status != COMPLETED:
        raise Conflict(f"Run {run.id} has not completed.", kind="run-not-completed")


async def get_run(reads: PlacementsRepositories, round_: RoundRecord, run_id: str) -> RunSummary:
    run = await reads.runs.by_id(run_id)
    if run is None or run.round_id != round_.id:
        raise NotFound("No such matching run in this round.")
    return run


async def list_runs(reads: PlacementsRepositories, round_: RoundRecord) -> list[RunSummary]:
    return await reads.runs.in_round(round_.id)


async def run_results(
    reads: PlacementsRepositories, run_id: str, school_ids: frozenset[str] | None
) -> RunResults:
    """A completed run's assignments and unplaced students, for every school or only some."""
    return await reads.runs.results(run_id, school_ids)


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
    reads: PlacementsRepositories,
    round_: RoundRecord,
    first_id: str,
    second_id: str,
    *,
    limit: int = 200,
) -> RunComparison:
    """Measures side by side, and which students would go somewhere else."""
    runs = [await get_run(reads, round_, run_id) for run_id in (first_id, second_id)]
    for run in runs:
        require_completed(run)
    first, second = [await reads.runs.seats(run.id) for run in runs]
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
