"""Timed jobs inside a service: an APScheduler 3 `AsyncIOScheduler` per process.

Jobs only ask the database what is due, so nothing about the work lives in the scheduler:
each replica keeps its own in-memory job store (never a shared one), and a restart or a
second replica loses or repeats nothing. `scheduled` is an aiohttp cleanup context; put it
after the one that opens the database, so that on shutdown it stops taking new runs and
waits for a running job to finish before the database closes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Job:
    """`run(app)` every `seconds`, first `first_after` seconds after start; one at a time."""

    name: str
    run: Callable[[web.Application], Awaitable[object]]
    seconds: float
    first_after: float = 0.0


def scheduled(
    jobs: Sequence[Job], *, shutdown_timeout: float = 30.0
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        running: set[asyncio.Task[None]] = set()
        scheduler = AsyncIOScheduler(timezone=UTC)
        now = datetime.now(UTC)
        for job in jobs:
            scheduler.add_job(
                _tracked(job, app, running),
                "interval",
                seconds=job.seconds,
                id=job.name,
                max_instances=1,
                coalesce=True,
                next_run_time=now + timedelta(seconds=job.first_after),
            )
        scheduler.start()
        try:
            yield
        finally:
            # APScheduler cancels what it is running at shutdown and cannot wait for it in
            # an event loop, so each run is a task of our own, shielded, and waited for here.
            scheduler.shutdown(wait=False)
            if running:
                _, late = await asyncio.wait(running, timeout=shutdown_timeout)
                for task in late:
                    log.warning("scheduler.job_abandoned", job=task.get_name())
                    task.cancel()

    return context


def _tracked(
    job: Job, app: web.Application, running: set[asyncio.Task[None]]
) -> Callable[[], Awaitable[None]]:
    async def guarded() -> None:
        try:
            await job.run(app)
        except Exception as exc:  # the next run tries again
            log.warning("scheduler.job_failed", job=job.name, error=type(exc).__name__)

    async def run() -> None:
        task = asyncio.create_task(guarded(), name=job.name)
        running.add(task)
        task.add_done_callback(running.discard)
        await asyncio.shield(task)

    return run
