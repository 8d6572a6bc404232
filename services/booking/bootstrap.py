"""Booking's composition root: the one place that wires adapters to the application."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from services.booking.adapters.busy_calendar import busy_intervals
from services.booking.adapters.calendar_fetch import CalendarFetcher
from services.booking.adapters.device_tokens import HmacDeviceTokens
from services.booking.adapters.feed_tokens import HmacFeedTokens
from services.booking.adapters.repositories.accounts import AccountStore
from services.booking.adapters.uow import BookingUnitOfWork
from services.booking.application.cache import ReferenceCache
from services.booking.application.identity import Identity
from services.booking.entrypoints import (
    accounts_api,
    api,
    appointments_api,
    calendars_api,
    contact_alerts,
    directory_api,
    pages,
    pages_account,
    pages_admin,
    pages_coordinator,
    pages_pa,
    pages_school,
    pages_student,
    pages_student_extras,
    reports_api,
    staff_api,
    waitlist_api,
)
from services.booking.entrypoints.access import session_guard, translate_booking_error
from services.booking.entrypoints.calendar_job import calendar_imports
from services.booking.entrypoints.context import BOOKING, BookingContext
from services.booking.entrypoints.scheduler import waitlist_sweep
from services.booking.entrypoints.spec import spec
from services.booking.settings import BookingSettings
from shared.auth.passwords import PasswordHasher
from shared.auth.tokens import TokenIssuer
from shared.db import Database
from shared.events import catalogue  # noqa: F401  (registers every payload schema)
from shared.http.app import DATABASE, MESSAGING, consume_revocations, create_service_app
from shared.http.pages import install_pages

MIGRATIONS = Path(__file__).parent / "migrations"
ROUTES = (
    api.routes,
    appointments_api.routes,
    directory_api.routes,
    waitlist_api.routes,
    reports_api.routes,
    staff_api.routes,
    calendars_api.routes,
    calendars_api.feed_routes,
    accounts_api.routes,
    contact_alerts.routes,
    pages.routes,
    pages_student.routes,
    pages_student_extras.routes,
    pages_pa.routes,
    pages_coordinator.routes,
    pages_school.routes,
    pages_account.routes,
    pages_admin.routes,
)
TEMPLATES = Path(__file__).parent / "entrypoints" / "templates"


def utc_now() -> datetime:
    return datetime.now(UTC)


def task_unit_of_work(db: Database) -> BookingUnitOfWork:
    """A unit of work for a one-off task (the command line), with a cache of its own."""
    return BookingUnitOfWork(db, producer="booking", cache=ReferenceCache(time.monotonic))


def calendar_fetcher(settings: BookingSettings) -> CalendarFetcher:
    return CalendarFetcher(
        timeout_seconds=settings.calendar_fetch_timeout_seconds,
        max_bytes=settings.calendar_max_bytes,
        allow_private=settings.calendar_allow_private,
    )


def create_app(
    settings: BookingSettings, *, clock: Callable[[], datetime] = utc_now
) -> web.Application:
    """Booking's app. `clock` is what its rules take as "now" (a test may start it on a
    chosen day); sign-in and tokens keep the real time."""
    issuer = TokenIssuer(
        settings.private_key_pem(),
        issuer=settings.token_issuer,
        ttl=timedelta(seconds=settings.token_ttl_seconds),
    )

    def wire(app: web.Application) -> None:
        db = app[DATABASE]
        relay = app[MESSAGING].relay
        cache = ReferenceCache(time.monotonic)
        consume_revocations(app)
        app[BOOKING] = BookingContext(
            settings=settings,
            identity=Identity(
                AccountStore(db, on_commit=relay.wake),
                issuer,
                PasswordHasher(),
                HmacDeviceTokens.from_signing_key(settings.private_key_pem()),
                session_ttl=timedelta(seconds=settings.session_ttl_seconds),
                clock=utc_now,
                monotonic=time.monotonic,
            ),
            unit_of_work=lambda: BookingUnitOfWork(
                db, producer="booking", cache=cache, on_commit=relay.wake
            ),
            db=db,
            cache=cache,
            clock=clock,
            feed_tokens=HmacFeedTokens.from_signing_key(settings.private_key_pem()),
        )

    app = create_service_app(
        settings,
        spec=spec,
        routes=list(ROUTES),
        migrations=MIGRATIONS,
        wire=wire,
        middlewares=[session_guard()],
        translate_error=translate_booking_error,
        jobs=[
            waitlist_sweep(settings.waitlist_sweep_seconds),
            calendar_imports(settings, calendar_fetcher(settings), busy_intervals),
        ],
    )
    contact_alerts.install(app)
    install_pages(app, TEMPLATES, title="Careers appointments")
    return app
