"""The scheduling helper runs a service's jobs and lets a running one finish on shutdown."""

from __future__ import annotations

import asyncio

from aiohttp import web

from shared.scheduling import Job, scheduled
from tests.conftest import eventually


async def test_shutdown_waits_for_a_running_job_to_finish() -> None:
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[bool] = []

    async def slow(_app: web.Application) -> None:
        started.set()
        await release.wait()
        finished.append(True)

    context = scheduled([Job("slow", slow, seconds=3600)])(web.Application())
    await anext(context)
    await eventually(started.is_set)
    shutdown = asyncio.create_task(anext(context, None))
    done, _ = await asyncio.wait({shutdown}, timeout=0.2)
    assert not done, "shutdown returned while the job was still running"
    release.set()
    await shutdown
    assert finished == [True]


async def test_a_job_runs_again_after_it_failed() -> None:
    runs: list[int] = []

    async def flaky(_app: web.Application) -> None:
        runs.append(1)
        if len(runs) == 1:
            raise ConnectionError("database away")

    context = scheduled([Job("flaky", flaky, seconds=0.05)])(web.Application())
    await anext(context)
    try:
        await eventually(lambda: len(runs) >= 2)
    finally:
        await anext(context, None)
