"""After publication: the allocations, confirmations and withdrawals (with re-matching)."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field, model_validator

from services.placements.application import clearing, publication
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


class AllocationOut(BaseModel):
    student_id: str
    school_id: str
    placement_id: str
    employer_id: str
    week: str
    rank: int | None
    status: Literal["published", "confirmed"]
    pinned: bool
    cleared: bool


class AllocationList(BaseModel):
    allocations: list[AllocationOut]


@routes.get(
    "/api/v1/rounds/{round_id}/allocations",
    summary="Published allocations you may see (a student: their own)",
    responses={200: AllocationList},
    tags=("publication",),
)
async def list_allocations(request: web.Request) -> web.Response:
    principal = require(request)
    async with reading_round(request, principal) as (s, access):
        own = principal.user_id if principal.role is Role.STUDENT and not access.manages else None
        rows = await publication.live_allocations(
            s, access.round, None if own else access.school_ids, own
        )
    return json_response(AllocationList(allocations=[AllocationOut(**r) for r in rows]))


class ConfirmResponse(BaseModel):
    employer_id: str
    confirmed: int


@routes.post(
    "/api/v1/rounds/{round_id}/employers/{employer_id}/confirmation",
    summary="Record that the employer confirmed the students allocated to them",
    responses={200: ConfirmResponse, 404: "No allocations", 409: "Already confirmed"},
    tags=("publication",),
)
async def confirm(request: web.Request) -> web.Response:
    employer_id = request.match_info["employer_id"]
    async with changing_round(request, require(request, Role.EBP, Role.ADMIN)) as (uow, access):
        cmd = publication.ConfirmEmployer(access.round, employer_id)
        confirmed = await publication.confirm_employer(cmd, uow, clock(request))
    return json_response(ConfirmResponse(employer_id=employer_id, confirmed=confirmed))


class WithdrawalRequest(Strict):
    student_id: str | None = Field(default=None, min_length=1, max_length=36)
    placement_id: str | None = Field(default=None, min_length=1, max_length=36)

    @model_validator(mode="after")
    def _one_of(self) -> WithdrawalRequest:
        if (self.student_id is None) == (self.placement_id is None):
            raise ValueError("name either the student or the placement that withdrew")
        return self


class WithdrawalResponse(BaseModel):
    withdrawn: list[dict[str, Any]]
    newly_allocated: list[dict[str, Any]]


@routes.post(
    "/api/v1/rounds/{round_id}/withdrawals",
    summary="Record a withdrawal after publication and re-match without moving anyone else",
    request=WithdrawalRequest,
    responses={200: WithdrawalResponse, 404: "Nothing to withdraw", 409: "Not published"},
    tags=("publication",),
)
async def withdraw(request: web.Request) -> web.Response:
    principal = require(request, Role.EBP, Role.ADMIN)
    body = await read_model(request, WithdrawalRequest)
    async with changing_round(request, principal) as (uow, access):
        cmd = publication.Withdraw(
            access.round,
            recorded_by=principal.user_id,
            student_id=body.student_id,
            placement_id=body.placement_id,
        )
        outcome = await publication.withdraw(cmd, uow, clock(request))
    return json_response(
        WithdrawalResponse(withdrawn=outcome.withdrawn, newly_allocated=outcome.newly_allocated)
    )


class ClearingResponse(BaseModel):
    newly_allocated: list[dict[str, Any]]


@routes.post(
    "/api/v1/rounds/{round_id}/clearing",
    summary="Give opted-in students still unplaced the suitable places free now",
    responses={200: ClearingResponse, 409: "Not published"},
    tags=("publication",),
)
async def clear(request: web.Request) -> web.Response:
    async with changing_round(request, require(request, Role.EBP, Role.ADMIN)) as (uow, access):
        cmd = clearing.ClearPublished(access.round)
        outcome = await clearing.clear_published(cmd, uow, clock(request))
    return json_response(ClearingResponse(newly_allocated=outcome.newly_allocated))
