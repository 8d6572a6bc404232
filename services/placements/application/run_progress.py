"""A running matching's progress, kept on its row so that a page on any replica can show it.

The engine reports its stages from a worker thread. `ProgressRecorder` takes each report on
the event loop and writes the latest one in its own short transaction; reports that arrive
while a write is under way are folded into the next, so a slow database never holds the
engine back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from services.placements.application.errors import NotFound
from services.placements.application.ports import PageRepositories, PageUnitOfWork, RoundRecord
from shared.logging import get_logger

log = get_logger(__name__)

STAGE_NAMES = {
    "eligibility": "Finding who could go where",
    "school shares": "Sharing places fairly between schools",
    "priority and leftover places": "Placing students with priority, then the rest",
    "best places": "Improving everyone's places",
    "clearing": "Clearing: any suitable place for those who asked",
    "results": "Writing the results",
    "measuring": "Measuring against the best possible",
}


@dataclass(frozen=True)
class Stage:
    stage: str
    done: int
    total: int


class ProgressRecorder:
    """A `Progress` callback for `execute_run` that records each stage on the run's row."""

    def __init__(
        self,
        unit_of_work: Callable[[], PageUnitOfWork],
        run_id: str,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._run_id = run_id
        self._loop = loop
        self._latest: Stage | None = None
        self._writer: asyncio.Task[None] | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        """Safe to call from the engine's worker thread as well as from the loop."""
        self._loop.call_soon_threadsafe(self._note, Stage(stage, done, total))

    def _note(self, stage: Stage) -> None:
        self._latest = stage
        if self._writer is None or self._writer.done():
            self._writer = self._loop.create_task(self._write())

    async def _write(self) -> None:
        while self._latest is not None:
            stage, self._latest = self._latest, None
            try:
                async with self._unit_of_work() as uow:
                    await uow.progress.record(self._run_id, stage.stage, stage.done, stage.total)
                    await uow.commit()
            except Exception as exc:
                # Progress is only shown; a failed write must not fail the run itself.
                log.warning(
                    "placements.progress_not_recorded",
                    run_id=self._run_id,
                    error=type(exc).__name__,
                )

    async def flush(self) -> None:
        """Wait for the reports so far to be written (the run's own writes come after)."""
        await asyncio.sleep(0)  # let reports scheduled from the worker thread arrive
        while self._writer is not None and not self._writer.done():
            await self._writer


@dataclass(frozen=True)
class RunStatus:
    run_id: str
    status: str
    stage: str | None
    stage_name: str
    done: int
    total: int

    @property
    def percent(self) -> int:
        if self.status != "running":
            return 100
        return round(100 * self.done / self.total) if self.total else 0


async def run_status(reads: PageRepositories, round_: RoundRecord, run_id: str) -> RunStatus:
    found = await reads.progress.of_run(round_.id, run_id)
    if found is None:
        raise NotFound("No such matching run in this round.")
    if found.status == "running":
        name = STAGE_NAMES.get(found.stage or "", "Starting")
    elif found.status == "completed":
        name = "Finished"
    else:
        name = "Failed"
    return RunStatus(found.run_id, found.status, found.stage, name, found.done, found.total)
