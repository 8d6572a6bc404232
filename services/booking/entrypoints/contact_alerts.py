"""Contact routes that notifications could not deliver to, for the school's staff to check.

`notifications.contact.undeliverable` is kept per (person, route, channel), the newest
report winning, and dropped when booking's own `directory.student.erased` comes round;
`GET /api/v1/contact-alerts?school_id=` lists a school's for its coordinators, its PAs and
admins.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from aiohttp import web
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import contact_alerts
from services.booking.entrypoints.context import BOOKING
from services.booking.entrypoints.spec import spec
from shared.auth.principal import Role
from shared.auth.web import require, require_school
from shared.db import upsert
from shared.events import Envelope
from shared.events.directory import StudentErased
from shared.events.notifications import ContactUndeliverable
from shared.http.app import MESSAGING
from shared.http.body import Strict, json_response, read_query
from shared.http.openapi import ApiRoutes

routes = ApiRoutes(spec)


async def record_alert(
    session: AsyncSession, envelope: Envelope, event: ContactUndeliverable
) -> None:
    await upsert(
        session,
        contact_alerts,
        {
            "owner_id": event.owner_id,
            "route": event.route,
            "channel": str(event.channel),
            "owner_kind": event.owner_kind,
            "school_id": event.school_id,
            "role": event.role,
            "reason": str(event.reason),
            "reported_at": envelope.occurred_at,
        },
        key=("owner_id", "route", "channel"),
    )


async def forget_student(session: AsyncSession, _envelope: Envelope, event: StudentErased) -> None:
    await session.execute(
        contact_alerts.delete().where(contact_alerts.c.owner_id == event.student_id)
    )


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
    async with request.app[BOOKING].db.read_session() as s:
        rows = (
            await s.execute(
                sa.select(contact_alerts)
                .where(contact_alerts.c.school_id == query.school_id)
                .order_by(contact_alerts.c.reported_at.desc())
            )
        ).all()
    return json_response(
        ContactAlertList(items=[ContactAlert.model_validate(r._asdict()) for r in rows])
    )


def install(app: web.Application) -> None:
    """Consume notifications' reports and serve the list (called by the composition root)."""
    app[MESSAGING].add_consumer(
        "booking.contact_alerts",
        topics=["notifications.events", "directory.events"],
        handlers={
            ContactUndeliverable.event_type: record_alert,
            StudentErased.event_type: forget_student,
        },
    )
    app.router.add_routes(routes)
