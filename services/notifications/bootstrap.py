"""Notifications' composition root."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from services.notifications.application.appointments import ReminderPlanner
from services.notifications.entrypoints import api
from services.notifications.entrypoints.context import NOTIFICATIONS, NotificationsContext
from services.notifications.settings import NotificationsSettings
from shared.events import catalogue  # noqa: F401  (registers every payload schema)
from shared.events.booking import (
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentRescheduled,
)
from shared.http.app import DATABASE, MESSAGING, consume_revocations, create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: NotificationsSettings) -> web.Application:
    def wire(app: web.Application) -> None:
        app[NOTIFICATIONS] = NotificationsContext(db=app[DATABASE])
        planner = ReminderPlanner()
        app[MESSAGING].add_consumer(
            "notifications.appointments",
            topics=["booking.events"],
            handlers={
                AppointmentConfirmed.event_type: planner,
                AppointmentRescheduled.event_type: planner,
                AppointmentCancelled.event_type: planner,
            },
        )
        consume_revocations(app)

    return create_service_app(
        settings, spec=api.spec, routes=[api.routes], migrations=MIGRATIONS, wire=wire
    )
