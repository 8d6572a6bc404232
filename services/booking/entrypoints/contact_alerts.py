"""Contact routes that notifications could not deliver to, for the school's staff to check.

`notifications.contact.undeliverable` is kept per (person, route, channel), the newest
report winning, and dropped when booking's own `directory.student.erased` comes round;
`GET /api/v1/contact-alerts?school_id=` lists a school's for its coordinators, its PAs and
admins; `POST /api/v1/contact-alerts/dismissals` lets its coordinators and admins dismiss one
they have checked. New contact details for the person drop their alerts too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from services.booking.application.contact_alerts import (
    DismissAlert,
    dismiss_alert,
    forget_student,
    record_alert,
)
from services.booking.entrypoints.context import BOOKING
from services.booking.entrypoints.spec import spec
from shared.auth.principal import Role
from shared.auth.web import require, require_school
from shared.events.directory import StudentErased
from shared.events.notifications import ContactUndeliverable
from shared.http.app import MESSAGING
from shared.http.body import Strict, json_response, read_model, read_query
from shared.http.openapi import ApiRoutes
from shared.http.problems import not_found

routes = ApiRoutes(spec)


class AlertQuery(Strict):
    school_id: str = Field(min_length=1, max_length=36)


class ContactAlert(BaseModel):
    owner_id: str
    owner_kind: str
    role: str
    route: int
    channel: str
    reason: str
    reported_at: datetime


class ContactAlertList(BaseModel):
    items: list[ContactAlert]


@routes.get(
    "/api/v1/contact-alerts",
    summary="Contact routes messages could not reach, for the school to check",
    query=AlertQuery,
    responses={200: ContactAlertList},
    tags=("directory",),
)
async def list_alerts(request: web.Request) -> web.Response:
    principal = require(request, Role.COORDINATOR, Role.ADVISER, Role.ADMIN)
    query = read_query(request, AlertQuery)
    require_school(principal, query.school_id)
    async with request.app[BOOKING].reads() as reads:
        alerts = await reads.contact_alerts.of_school(query.school_id)
    return json_response(
        ContactAlertList(
            items=[ContactAlert.model_validate(alert, from_attributes=True) for alert in alerts]
        )
    )


class Dismissal(Strict):
    school_id: str = Field(min_length=1, max_length=36)
    owner_id: str = Field(min_length=1, max_length=36)
    route: int = Field(ge=0, le=99)
    channel: Literal["sms", "email"]


@routes.post(
    "/api/v1/contact-alerts/dismissals",
    summary="Dismiss a contact alert the school has checked (a new failure brings it back)",
    request=Dismissal,
    responses={204: "Dismissed", 404: "Problem"},
    tags=("directory",),
)
async def dismiss(request: web.Request) -> web.Response:
    principal = require(request, Role.COORDINATOR, Role.ADMIN)
    body = await read_model(request, Dismissal)
    require_school(principal, body.school_id)
    cmd = DismissAlert(body.school_id, body.owner_id, body.route, body.channel)
    if not await dismiss_alert(cmd, request.app[BOOKING].unit_of_work()):
        raise not_found("contact alert")
    return web.Response(status=204)


def install(app: web.Application) -> None:
    """Consume notifications' reports (called by the composition root, which serves the
    routes with the others)."""
    booking = app[BOOKING]
    app[MESSAGING].add_consumer(
        "booking.contact_alerts",
        topics=["notifications.events", "directory.events"],
        handlers={
            ContactUndeliverable.event_type: record_alert,
            StudentErased.event_type: forget_student,
        },
        unit_of_work=lambda session: booking.unit_of_work().within(session),
    )
