"""Timed work inside booking: the waitlist offer expiry sweep.

The job only asks the database which offers are due (`expires_at` has passed); nothing about
an offer lives in the scheduler, so a restart or a second replica loses or repeats nothing.
It runs on the scheduler every service has (`shared.scheduling`).
"""

from __future__ import annotations

from aiohttp import web

from services.booking.application.waitlist import expire_due_offers
from services.booking.entrypoints.context import BOOKING
from shared.logging import get_logger
from shared.scheduling import Job

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


def waitlist_sweep(interval_seconds: float) -> Job:
    """The sweep every `interval_seconds`, first at start-up."""
    return Job("waitlist-offer-expiry", sweep_waitlist_offers, seconds=interval_seconds)
