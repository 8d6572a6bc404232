"""Timed work inside booking: the waitlist offer expiry sweep.

The job only asks the database which offers are due (`expires_at` has passed); nothing about
an offer lives in the scheduler, so a restart or a second replica loses or repeats nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from services.booking.application.waitlist import expire_due_offers
from services.booking.entrypoints.context import BOOKING
from shared.logging import get_logger

log = get_logger(__name__)


async def sweep_waitlist_offers(app: web.Application) -> int:
    ctx = app[BOOKING]
    try:
        expired = await expire_due_offers(ctx.unit_of_work, ctx.clock())
    except Exception as exc:  # the database may be away for a moment: the next run retries
        log.warning("waitlist.sweep_failed", error=type(exc).__name__)
        return 0
    if expired:
        log.info("waitlist.offers_expired", count=expired)
    return expired


def scheduled_jobs(
    interval_seconds: float,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context running the sweep every `interval_seconds` while the app is up."""

    async def jobs(app: web.Application) -> AsyncIterator[None]:
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            sweep_waitlist_offers,
            "interval",
            seconds=interval_seconds,
            args=[app],
            id="waitlist-offer-expiry",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )
        scheduler.start()
        try:
            yield
        finally:
            scheduler.shutdown(wait=False)

    return jobs
