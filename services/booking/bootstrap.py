"""Booking's composition root: the one place that wires adapters to the application."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from services.booking.application.identity import Identity
from services.booking.entrypoints import (
    api,
    appointments_api,
    contact_alerts,
    directory_api,
    pages,
    reports_api,
    waitlist_api,
)
from services.booking.entrypoints.access import session_guard, translate_booking_error
from services.booking.entrypoints.context import BOOKING, BookingContext
from services.booking.entrypoints.scheduler import scheduled_jobs
from services.booking.entrypoints.spec import spec
from services.booking.settings import BookingSettings
from shared.auth.passwords import PasswordHasher
from shared.auth.tokens import TokenIssuer
from shared.events import catalogue  # noqa: F401  (registers every payload schema)
from shared.http.app import DATABASE, MESSAGING, create_service_app
from shared.http.pages import install_pages
from shared.uow import UnitOfWork

MIGRATIONS = Path(__file__).parent / "migrations"
ROUTES = (
    api.routes,
    appointments_api.routes,
    directory_api.routes,
    waitlist_api.routes,
    reports_api.routes,
    pages.routes,
)
TEMPLATES = Path(__file__).parent / "entrypoints" / "templates"


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(settings: BookingSettings) -> web.Application:
    issuer = TokenIssuer(
        settings.private_key_pem(),
        issuer=settings.token_issuer,
        ttl=timedelta(seconds=settings.token_ttl_seconds),
    )

    def wire(app: web.Application) -> None:
        db = app[DATABASE]
        relay = app[MESSAGING].relay
        app[BOOKING] = BookingContext(
            settings=settings,
            identity=Identity(
                db,
                issuer,
                PasswordHasher(),
                session_ttl=timedelta(seconds=settings.session_ttl_seconds),
            ),
            unit_of_work=lambda: UnitOfWork(db, producer="booking", on_commit=relay.wake),
            db=db,
            clock=utc_now,
        )

    app = create_service_app(
        settings,
        spec=spec,
        routes=list(ROUTES),
        migrations=MIGRATIONS,
        wire=wire,
        middlewares=[session_guard()],
        translate_error=translate_booking_error,
    )
    contact_alerts.install(app)
    install_pages(app, TEMPLATES, title="Careers appointments")
    app.cleanup_ctx.append(scheduled_jobs(settings.waitlist_sweep_seconds))
    return app
