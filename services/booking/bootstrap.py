"""Booking's composition root: the one place that wires adapters to the application."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from aiohttp import web

from services.booking.application.identity import Identity
from services.booking.entrypoints import api
from services.booking.entrypoints.context import BOOKING, BookingContext
from services.booking.settings import BookingSettings
from shared.auth.passwords import PasswordHasher
from shared.auth.tokens import TokenIssuer
from shared.events import catalogue  # noqa: F401  (registers every payload schema)
from shared.http.app import DATABASE, MESSAGING, create_service_app
from shared.uow import UnitOfWork

MIGRATIONS = Path(__file__).parent / "migrations"


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
        )

    return create_service_app(
        settings, spec=api.spec, routes=[api.routes], migrations=MIGRATIONS, wire=wire
    )
