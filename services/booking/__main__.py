"""Run the booking service: `python -m services.booking`.

With `BOOKING_WORKERS` above 1 (PostgreSQL only), that many processes share the port
(SO_REUSEPORT), because one Python process uses one core and a booking rush is CPU-bound in
Python. Migrations run once, before the workers start; every worker runs its own outbox
relay and expiry sweep, which is safe because both claim rows with SKIP LOCKED.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os

from aiohttp import web

from services.booking.bootstrap import MIGRATIONS, create_app
from services.booking.settings import BookingSettings
from shared.db import Database
from shared.logging import configure_logging
from shared.migrations import upgrade


def serve_worker(reuse_port: bool = True) -> None:
    settings = BookingSettings.from_env()
    configure_logging(settings.service, settings.log_level)
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=None,
        shutdown_timeout=10,
        print=None,
        reuse_port=reuse_port,
    )


async def migrate(settings: BookingSettings) -> None:
    db = Database(settings.database_url)
    try:
        await upgrade(db, MIGRATIONS)
    finally:
        await db.dispose()


def main() -> None:
    settings = BookingSettings.from_env()
    if settings.workers == 1:
        serve_worker(reuse_port=False)
        return
    if settings.should_migrate_on_start:
        asyncio.run(migrate(settings))
    os.environ["MIGRATE_ON_START"] = "false"
    spawn = multiprocessing.get_context("spawn")
    others = [spawn.Process(target=serve_worker, daemon=True) for _ in range(settings.workers - 1)]
    for worker in others:
        worker.start()
    try:
        serve_worker()
    finally:
        for worker in others:
            worker.terminate()
        for worker in others:
            worker.join(timeout=15)


if __name__ == "__main__":
    main()
