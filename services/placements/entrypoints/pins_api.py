"""Pins: an EBP's fixed assignments that every matching run keeps."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, Field

from services.placements.application import pins as pin_cases
from services.placements.application.ports import PinRecord
from services.placements.domain.weeks import ISO_WEEK_PATTERN
from services.placements.entrypoints.access import (
    changing_round,
    reading_round,
)
from services.placements.entrypoints.context import clock
from services.placements.entrypoints.spec import spec
from shared.auth.principal import Role
from shared.auth.web import require
from shared.http.body import Strict, json_response, read_model
from shared.http.openapi import ApiRoutes

routes = ApiRoutes(spec)


class PinRequest(Strict):
    placement_id: str = Field(min_length=1, max_length=36)
    week: str = Field(pattern=ISO_WEEK_PATTERN)


class PinResponse(BaseModel):
    student_id: str
    placement_id: str
    week: str
    source: str
    pinned_at: datetime


class PinList(BaseModel):
    pins: list[PinResponse]


def _pin_response(pin: PinRecord) -> PinResponse:
    return PinResponse(
        student_id=pin.student_id,
        placement_id=pin.placement_id,
        week=pin.week,
        source=pin.source,
        pinned_at=pin.pinned_at,
    )


@routes.get(
    "/api/v1/rounds/{round_id}/pins",
    summary="Students pinned to a placement",
    responses={200: PinList},
    tags=("runs",),
)
async def list_pins(request: web.Request) -> web.Response:
    async with reading_round(request, require(request), manager=True) as (s, access):
        pins = await pin_cases.list_pins(s, access.round)
    return json_response(PinList(pins=[_pin_response(p) for p in pins]))


@routes.put(
    "/api/v1/rounds/{round_id}/pins/{student_id}",
    summary="Pin a student to a placement for a week; every re-run keeps it",
    request=PinRequest,
    responses={200: PinResponse, 409: "Full or published", 422: "Invalid"},
    tags=("runs",),
)
async def put_pin(request: web.Request) -> web.Response:
    principal = require(request, Role.EBP, Role.ADMIN)
    body = await read_model(request, PinRequest)
    async with changing_round(request, principal) as (uow, access):
        cmd = pin_cases.PinStudent(
            access.round,
            request.match_info["student_id"],
            body.placement_id,
            body.week,
            pinned_by=principal.user_id,
        )
        pin = await pin_cases.pin_student(cmd, uow, clock(request))
    return json_response(_pin_response(pin))


@routes.delete(
    "/api/v1/rounds/{round_id}/pins/{student_id}",
    summary="Unpin a student",
    responses={204: "Unpinned", 404: "No pin"},
    tags=("runs",),
)
async def delete_pin(request: web.Request) -> web.Response:
    async with changing_round(request, require(request, Role.EBP, Role.ADMIN)) as (uow, access):
        cmd = pin_cases.UnpinStudent(access.round, request.match_info["student_id"])
        await pin_cases.unpin_student(cmd, uow)
    return web.Response(status=204)
