"""A matching run's progress is kept on its row, so a page on any replica can show it."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from services.placements.adapters.orm import matching_runs
from services.placements.adapters.uow import PlacementsUnitOfWork
from services.placements.application.run_progress import ProgressRecorder
from services.placements.domain.matching import STAGES
from tests.conftest import eventually
from tests.integration.placements.conftest import Service
from tests.integration.placements.test_matching_flow import (
    _completed_run,
    _state_students_preferences,
)


async def _progress(service: Service, run_id: str) -> tuple[str | None, int | None, int | None]:
    async with service.db.read_session() as s:
        row = (
            await s.execute(
                sa.select(
                    matching_runs.c.stage,
                    matching_runs.c.progress_done,
                    matching_runs.c.progress_total,
                ).where(matching_runs.c.id == run_id)
            )
        ).one()
    return row.stage, row.progress_done, row.progress_total


async def test_a_run_records_each_stage_and_ends_measured(service: Service) -> None:
    round_ = await service.open_round()
    await _state_students_preferences(service, round_["id"])
    run = await _completed_run(service, round_["id"], seed=3)
    total = len(STAGES) + 1

    async def measured() -> bool:
        return await _progress(service, run["id"]) == ("measuring", total, total)

    await eventually(measured)


async def test_reports_from_a_worker_thread_are_written_latest_last(service: Service) -> None:
    round_ = await service.open_round()
    await _state_students_preferences(service, round_["id"])
    run = await _completed_run(service, round_["id"], seed=4)

    def unit_of_work() -> PlacementsUnitOfWork:
        return PlacementsUnitOfWork(service.db, producer="placements")

    recorder = ProgressRecorder(unit_of_work, run["id"], asyncio.get_running_loop())

    def engine() -> None:
        for done, stage in enumerate(STAGES):
            recorder(stage, done, len(STAGES))

    await asyncio.to_thread(engine)
    await recorder.flush()
    assert await _progress(service, run["id"]) == (STAGES[-1], len(STAGES) - 1, len(STAGES))
