"""Placements students found themselves: registered by a coordinator, approved by the EBP."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from services.placements.application import self_found
from services.placements.application.employers import SLUG
from services.placements.application.errors import Invalid
from services.placements.domain.weeks import ISO_WEEK_PATTERN
from services.placements.entrypoints.access import (
    changing_round,
    reading_round,
)
from services.placements.entrypoints.context import clock
from services.placements.entrypoints.spec import spec
from shared.auth.principal import Role
from shared.auth.web import require
from shared.http.body import Day, Strict, json_response, read_model
from shared.http.openapi import ApiRoutes

routes = ApiRoutes(spec)


# No spaces or control characters (spelt out: regular-expression engines differ on `\s`).
_ADDRESS_PART = r"[^@\s\x00-\x1f\x7f-\x9f]+"
EMAIL = f"^{_ADDRESS_PART}@{_ADDRESS_PART}\\.{_ADDRESS_PART}$"


class SelfFoundRequest(Strict):
    student_id: str | None = Field(default=None, max_length=36, description="Staff only.")
    employer_name: str = Field(min_length=1, max_length=200)
    contact_email: str = Field(pattern=EMAIL, max_length=320)
    postcode: str = Field(min_length=2, max_length=10)
    sector: str = Field(pattern=SLUG)
    week: str = Field(pattern=ISO_WEEK_PATTERN)


class SelfFoundResponse(BaseModel):
    id: str
    student_id: str
    employer_name: str
    postcode: str
    sector: str
    week: str
    status: Literal["pending", "approved", "rejected"]
    placement_id: str | None


class SelfFoundList(BaseModel):
    self_found: list[SelfFoundResponse]


class ApproveRequest(Strict):
    health_safety_expires: Day
    insurance_expires: Day
    minimum_age: int = Field(default=14, ge=13, le=19)
    latitude: float | None = Field(default=None, ge=49.5, le=61.0)
    longitude: float | None = Field(default=None, ge=-8.5, le=2.0)


def _self_found_response(row: dict[str, Any]) -> SelfFoundResponse:
    return SelfFoundResponse.model_validate({k: row[k] for k in SelfFoundResponse.model_fields})


@routes.post(
    "/api/v1/rounds/{round_id}/self-found",
    summary="Register a placement the student found themselves, for EBP approval",
    request=SelfFoundRequest,
    responses={201: SelfFoundResponse, 409: "Already registered", 422: "Invalid"},
    tags=("self-found",),
)
async def register_self_found(request: web.Request) -> web.Response:
    principal = require(request, Role.STUDENT, Role.EBP, Role.ADMIN)
    body = await read_model(request, SelfFoundRequest)
    async with changing_round(request, principal, manager=False) as (uow, access):
        if principal.role is Role.STUDENT:
            student_id = body.student_id or principal.user_id
            access.require_student_record(student_id, None)
        else:
            access.require_manager()
            if body.student_id is None:
                raise Invalid("student_id", "Staff must name the student.")
            student_id = body.student_id
        cmd = self_found.RegisterSelfFound(
            round_=access.round,
            student_id=student_id,
            employer_name=body.employer_name,
            contact_email=body.contact_email,
            postcode=body.postcode,
            sector=body.sector,
            week=body.week,
        )
        row = await self_found.register_self_found(cmd, uow, clock(request))
    return json_response(_self_found_response(row), status=201)


@routes.get(
    "/api/v1/rounds/{round_id}/self-found",
    summary="Self-found placements you may see",
    responses={200: SelfFoundList},
    tags=("self-found",),
)
async def list_self_found(request: web.Request) -> web.Response:
    principal = require(request)
    async with reading_round(request, principal) as (s, access):
        if access.manages:
            rows = await self_found.list_self_found(s, access.round)
        elif principal.role is Role.STUDENT:
            rows = await self_found.list_self_found(
                s, access.round, student_ids=[principal.user_id]
            )
        else:
            rows = await self_found.list_self_found(
                s, access.round, school_ids=access.school_ids or frozenset()
            )
    return json_response(SelfFoundList(self_found=[_self_found_response(r) for r in rows]))


@routes.post(
    "/api/v1/rounds/{round_id}/self-found/{self_found_id}/approval",
    summary="Approve a vetted self-found placement: the student is pinned to it",
    request=ApproveRequest,
    responses={200: SelfFoundResponse, 409: "Already decided", 422: "Invalid"},
    tags=("self-found",),
)
async def approve_self_found(request: web.Request) -> web.Response:
    principal = require(request, Role.EBP, Role.ADMIN)
    body = await read_model(request, ApproveRequest)
    async with changing_round(request, principal) as (uow, access):
        cmd = self_found.ApproveSelfFound(
            round_=access.round,
            self_found_id=request.match_info["self_found_id"],
            health_safety_expires=body.health_safety_expires,
            insurance_expires=body.insurance_expires,
            minimum_age=body.minimum_age,
            approved_by=principal.user_id,
            latitude=body.latitude,
            longitude=body.longitude,
        )
        row = await self_found.approve_self_found(cmd, uow, clock(request))
    return json_response(_self_found_response(row))


@routes.post(
    "/api/v1/rounds/{round_id}/self-found/{self_found_id}/rejection",
    summary="Reject a self-found placement",
    responses={204: "Rejected", 409: "Already decided"},
    tags=("self-found",),
)
async def reject_self_found(request: web.Request) -> web.Response:
    async with changing_round(request, require(request, Role.EBP, Role.ADMIN)) as (uow, access):
        cmd = self_found.RejectSelfFound(access.round, request.match_info["self_found_id"])
        await self_found.reject_self_found(cmd, uow, clock(request))
    return web.Response(status=204)
