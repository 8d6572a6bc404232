"""The message log for a school's staff (every read audited) and a student's own contact
preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field, model_validator

from services.notifications.application.ports import Preferences as Chosen
from services.notifications.application.preferences import (
    ChoosePreferences,
    NoContactDetails,
    choose_preferences,
    preferences_of,
)
from services.notifications.entrypoints.api import routes
from services.notifications.entrypoints.context import NOTIFICATIONS
from shared.auth.principal import Role
from shared.auth.web import require
from shared.http.body import Strict, json_response, read_model, read_query
from shared.http.openapi import Link
from shared.http.problems import Problem, forbidden
from shared.logging import get_logger

log = get_logger(__name__)
STAFF = (Role.ADVISER, Role.COORDINATOR, Role.ADMIN)


class MessageQuery(Strict):
    appointment_id: str | None = Field(default=None, min_length=1, max_length=36)
    student_id: str | None = Field(default=None, min_length=1, max_length=36)

    @model_validator(mode="after")
    def _exactly_one(self) -> MessageQuery:
        if (self.appointment_id is None) == (self.student_id is None):
            raise ValueError("give exactly one of appointment_id and student_id")
        return self


class LoggedMessage(BaseModel):
    id: str
    kind: str
    channel: str
    role: str | None
    status: str
    variant: str
    attempts: int
    due_at: datetime
    handed_at: datetime | None
    provider_status: str | None
    error: str | None
    appointment_id: str | None


class MessageLog(BaseModel):
    items: list[LoggedMessage]


@routes.get(
    "/api/v1/messages",
    summary="The messages sent (or due) about one appointment or to one student",
    query=MessageQuery,
    responses={200: MessageLog},
    tags=("messages",),
)
async def message_log(request: web.Request) -> web.Response:
    principal = require(request, *STAFF)
    query = read_query(request, MessageQuery)
    ctx = request.app[NOTIFICATIONS]
    async with ctx.storage.reads() as reads:
        if query.appointment_id is not None:
            owner = await reads.log.appointment_owner(query.appointment_id)
            school = None if owner is None else owner[0]
        else:
            school = await reads.log.school_of_student(str(query.student_id))
        if school is None or not principal.sees_guidance_at(school):
            raise forbidden("You do not act for this student's school.")
        rows = await reads.log.messages_about(
            appointment_id=query.appointment_id, student_id=query.student_id
        )
    async with ctx.storage.unit() as uow:
        await uow.log.record_read(
            ctx.clock(),
            reader_id=principal.user_id,
            reader_role=str(principal.role),
            appointment_id=query.appointment_id,
            student_id=query.student_id,
            rows=len(rows),
        )
        await uow.commit()
    log.info("messages.log_read", reader_id=principal.user_id, rows=len(rows))
    items = [LoggedMessage.model_validate(r) for r in rows]
    return json_response(MessageLog(items=items))


class Preferences(Strict):
    channel: Literal["sms", "email"] | None = Field(
        default=None, description="the channel to use; none means as the school recorded"
    )
    parent_copy: bool = Field(default=True, description="send a copy to consenting parents")
    opted_out: bool = Field(default=False, description="send me nothing at all")


NO_DETAILS_YET = (
    "Your school has not given us your contact details yet; ask its careers coordinator."
)


def _no_details() -> Problem:
    return Problem(404, "Not found", NO_DETAILS_YET, type_="not-found")


@routes.get(
    "/api/v1/me/contact-preferences",
    summary="How I am contacted",
    responses={200: Preferences, 404: "No contact details yet"},
    tags=("preferences",),
    links={
        "KeepPreferences": Link(
            "PUT", "/api/v1/me/contact-preferences", request_body="$response.body"
        )
    },
)
async def get_preferences(request: web.Request) -> web.Response:
    principal = require(request, Role.STUDENT)
    try:
        async with request.app[NOTIFICATIONS].storage.reads() as reads:
            chosen = await preferences_of(principal.user_id, reads)
    except NoContactDetails:
        raise _no_details() from None
    return json_response(Preferences.model_validate(chosen, from_attributes=True))


@routes.put(
    "/api/v1/me/contact-preferences",
    summary="Choose how I am contacted",
    request=Preferences,
    responses={200: Preferences, 404: "No contact details yet"},
    tags=("preferences",),
)
async def put_preferences(request: web.Request) -> web.Response:
    body = await read_model(request, Preferences)
    principal = require(request, Role.STUDENT)
    choice = ChoosePreferences(principal.user_id, Chosen(**body.model_dump()))
    try:
        await choose_preferences(choice, request.app[NOTIFICATIONS].storage.unit())
    except NoContactDetails:
        raise _no_details() from None
    return json_response(body)
