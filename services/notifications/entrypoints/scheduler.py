"""Timed work inside notifications: the message dispatcher.

The job asks the database which messages are due; nothing about a message lives in the
scheduler (an in-memory job store per process), so a restart or a second replica loses or
repeats nothing. Handlers that write a message due now wake the job at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from services.notifications.application.dispatch import Dispatcher
from shared.logging import get_logger

log = get_logger(__name__)

JOB_ID = "message-dispatch"


async def dispatch_messages(dispatcher: Dispatcher) -> int:
    try:
        return await dispatcher.dispatch_due()
    except Exception as exc:  # the database may be away for a moment: the next run retries
        log.warning("dispatch.failed", error=type(exc).__name__)
        return 0


class DispatchJob:
    """Runs the dispatcher every `interval_seconds` while the app is up; `wake` runs it now."""

    def __init__(self, dispatcher: Dispatcher, interval_seconds: float) -> None:
        self._dispatcher = dispatcher
        self._interval = interval_seconds
        self._scheduler: AsyncIOScheduler | None = None
        self._again = False
        self._running = False

    async def run(self) -> None:
        """One run, repeated while wake-ups arrived during it (they would be lost otherwise)."""
        self._running = True
        try:
            while True:
                self._again = False
                await dispatch_messages(self._dispatcher)
                if not self._again:
                    return
        finally:
            self._running = False

    def wake(self) -> None:
        self._again = True
        scheduler = self._scheduler
        if self._running:
            return  # the run in progress goes round again
        if scheduler is not None and scheduler.running:
            job = scheduler.get_job(JOB_ID)
            if job is not None:
                job.modify(next_run_time=datetime.now(UTC))

    def cleanup_context(self) -> Callable[[web.Application], AsyncIterator[None]]:
        async def jobs(_app: web.Application) -> AsyncIterator[None]:
            scheduler = AsyncIOScheduler(timezone=UTC)
            scheduler.add_job(
                self.run,
                "interval",
                seconds=self._interval,
                id=JOB_ID,
                max_instances=1,
                coalesce=True,
                next_run_time=datetime.now(UTC),
            )
            scheduler.start()
            self._scheduler = scheduler
            try:
                yield
            finally:
                self._scheduler = None
                scheduler.shutdown(wait=False)

        return jobs
