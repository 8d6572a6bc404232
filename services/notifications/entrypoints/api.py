"""Notifications' HTTP API."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, Field

from services.notifications.entrypoints.context import NOTIFICATIONS
from shared.auth.principal import Role
from shared.auth.web import require
from shared.http.body import Strict, json_response, read_query
from shared.http.openapi import ApiRoutes, ApiSpec

spec = ApiSpec("Signpost notifications", "1.0", "Reminders and messages.")
routes = ApiRoutes(spec)


class ReminderQuery(Strict):
    appointment_id: str = Field(min_length=1, max_length=36)


class Reminder(BaseModel):
    id: str
    appointment_id: str
    appointment_revision: int
    kind: str
    due_at: datetime
    status: str


class ReminderList(BaseModel):
    items: list[Reminder]


@routes.get(
    "/api/v1/reminders",
    summary="Reminders for one appointment",
    query=ReminderQuery,
    responses={200: ReminderList},
    tags=("reminders",),
)
async def list_reminders(request: web.Request) -> web.Response:
    principal = require(request, Role.ADVISER, Role.COORDINATOR, Role.ADMIN, Role.STUDENT)
    query = read_query(request, ReminderQuery)
    async with request.app[NOTIFICATIONS].storage.reads() as reads:
        owner = await reads.log.appointment_owner(query.appointment_id)
        rows = await reads.log.reminders_of(query.appointment_id)
    visible = owner is not None and principal.sees_guidance_of(*owner)
    items = [Reminder.model_validate(r) for r in rows] if visible else []
    return json_response(ReminderList(items=items))
