"""The booking service's processes: one, or several sharing the port.

With `BOOKING_WORKERS` above 1 (PostgreSQL only), that many processes share the port
(SO_REUSEPORT), because one Python process uses one core and a booking rush is CPU-bound in
Python. Migrations run once, before the workers start; every worker runs its own outbox
relay and expiry sweep, which is safe because both claim rows with SKIP LOCKED.

The workers are started with `spawn`, so their entry point lives here, in an importable
module, not in `__main__`. The first process starts the others, waits until each is
listening and only then listens itself, so a client that opens its connections as soon as
the service answers still spreads over every worker. The processes watch each other: when a
worker dies the first process stops the rest and exits non-zero, so whatever supervises the
service restarts it whole rather than leaving it at part strength; when the first process
dies, the workers stop too.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Sequence
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from types import FrameType

from aiohttp import web

from services.booking.bootstrap import MIGRATIONS, create_app
from services.booking.settings import BookingSettings
from shared.http.app import run
from shared.logging import configure_logging, get_logger
from shared.migrations import database_for_task

log = get_logger(__name__)


def serve(
    *, reuse_port: bool, watch: Sequence[BaseProcess] = (), listening: Event | None = None
) -> None:
    """Serve until SIGTERM or SIGINT, or until a process in `watch` exits.

    `listening` is set once the port accepts connections.
    """
    settings = BookingSettings.from_env()
    configure_logging(settings.service, settings.log_level)
    app = create_app(settings)
    if watch:
        app.on_startup.append(_stop_when_any_exits(watch))
    run(
        app,
        settings,
        reuse_port=reuse_port,
        on_listening=listening.set if listening is not None else None,
    )


def serve_worker(listening: Event) -> None:
    """A worker started by the first process: serve beside it while it lives."""
    parent = multiprocessing.parent_process()
    serve(reuse_port=True, watch=[parent] if parent is not None else [], listening=listening)


def _stop_when_any_exits(processes: Sequence[BaseProcess]):  # type: ignore[no-untyped-def]
    """An on-startup hook: stop this process gracefully when one of `processes` exits.

    A process's sentinel is a descriptor that becomes readable when it ends, so the event
    loop watches it directly, with no thread to join at shutdown.
    """

    async def watch(app: web.Application) -> None:
        loop = asyncio.get_running_loop()

        def exited(process: BaseProcess) -> None:
            for other in processes:
                loop.remove_reader(other.sentinel)
            log.error(
                "booking.process_exited",
                process=process.name,
                exit_code=process.exitcode,
                detail="stopping the service",
            )
            os.kill(os.getpid(), signal.SIGTERM)

        for process in processes:
            loop.add_reader(process.sentinel, exited, process)

        async def stop_watching(app: web.Application) -> None:
            for process in processes:
                loop.remove_reader(process.sentinel)

        app.on_cleanup.append(stop_watching)

    return watch


def _wait_listening(workers: Sequence[BaseProcess], ready: Sequence[Event], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for worker, listening in zip(workers, ready, strict=True):
        while not listening.wait(timeout=0.5):
            if not worker.is_alive():
                raise SystemExit(f"{worker.name} exited while starting (code {worker.exitcode})")
            if time.monotonic() > deadline:
                raise SystemExit(f"{worker.name} did not start listening in {timeout:.0f} s")


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


async def migrate(settings: BookingSettings) -> None:
    async with database_for_task(settings.database_url, MIGRATIONS):
        pass


def main() -> None:
    settings = BookingSettings.from_env()
    if settings.workers == 1:
        serve(reuse_port=False)
        return
    if settings.should_migrate_on_start:
        asyncio.run(migrate(settings))
    os.environ["MIGRATE_ON_START"] = "false"
    spawn = multiprocessing.get_context("spawn")
    ready = [spawn.Event() for _ in range(1, settings.workers)]
    workers = [
        spawn.Process(target=serve_worker, args=(listening,), name=f"booking-worker-{n}")
        for n, listening in enumerate(ready, start=1)
    ]
    # Until aiohttp installs its own handlers, SIGTERM must still reach the `finally` below,
    # so that no worker outlives a service stopped while starting.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    for worker in workers:
        worker.start()
    try:
        _wait_listening(workers, ready, timeout=120)
        serve(reuse_port=True, watch=workers)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.join(timeout=15)
    if any(worker.exitcode not in (0, -signal.SIGTERM) for worker in workers):
        sys.exit(1)
