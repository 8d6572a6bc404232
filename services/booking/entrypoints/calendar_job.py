"""Timed work inside booking: refreshing PAs' imported calendars.

Each run takes the imports that are due, one at a time (`refresh_next_import` claims one
with a lease, fetches outside any transaction, records the outcome), so a restart or a
second replica loses or repeats nothing. Neither the calendar's URL nor its content is
logged: only the outcome's code.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from services.booking.application.calendar_import import (
    Fetcher,
    ImportTimings,
    ReadBusy,
    refresh_next_import,
)
from services.booking.entrypoints.context import BOOKING
from services.booking.settings import BookingSettings
from shared.logging import get_logger
from shared.scheduling import Job

log = get_logger(__name__)
PER_RUN = 50


def calendar_imports(settings: BookingSettings, fetcher: Fetcher, read_busy: ReadBusy) -> Job:
    """Refresh up to `PER_RUN` due calendars every CALENDAR_IMPORT_SECONDS."""
    timings = ImportTimings(
        refresh_every=timedelta(seconds=settings.calendar_refresh_seconds),
        # Long enough for the slowest fetch allowed, so a live job never loses its claim.
        lease=timedelta(seconds=2 * settings.calendar_fetch_timeout_seconds + 60),
    )

    async def run(app: web.Application) -> int:
        ctx = app[BOOKING]
        refreshed = 0
        while refreshed < PER_RUN:
            try:
                outcome = await refresh_next_import(
                    ctx.unit_of_work, fetcher, read_busy, ctx.clock, timings
                )
            except Exception as exc:  # the database may be away: the lease frees the row
                log.warning("calendar.import_failed", error=type(exc).__name__)
                break
            if outcome is None:
                break
            refreshed += 1
            log.info("calendar.import_refreshed", outcome=outcome)
        return refreshed

    return Job("calendar-import", run, seconds=settings.calendar_import_seconds)
