"""Allocation rounds: EBP staff open them for a set of schools; schools read their part."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field, WithJsonSchema, model_validator

from services.placements.application.errors import Invalid
from services.placements.application.ports import RoundRecord
from services.placements.application.rounds import OpenRound, open_round, visible_rounds
from services.placements.domain.weeks import normalise
from services.placements.entrypoints.access import (
    reading_round,
)
from services.placements.entrypoints.context import clock, placements_context
from services.placements.entrypoints.spec import spec
from shared.auth.principal import Role
from shared.auth.web import require, require_school
from shared.http.body import Instant, Strict, json_response, read_model
from shared.http.openapi import ApiRoutes, Link
from shared.http.problems import forbidden

routes = ApiRoutes(spec)


# As documented: weeks of this century, 01 to 52 (a year's week 53 is valid when it exists).
IsoWeek = Annotated[
    str,
    WithJsonSchema(
        {"type": "string", "pattern": r"^20[0-9]{2}-W(0[1-9]|[1-4][0-9]|5[0-2])$"},
        mode="validation",
    ),
]


class RoundSchool(Strict):
    school_id: str = Field(min_length=1, max_length=36)
    weeks: list[IsoWeek] = Field(min_length=1, max_length=6)

    @model_validator(mode="after")
    def _weeks(self) -> RoundSchool:
        self.weeks = normalise(self.weeks)
        return self


class RoundRequest(Strict):
    name: str = Field(min_length=1, max_length=200)
    year_group: int = Field(default=10, ge=7, le=13)
    deadline: Instant
    schools: list[RoundSchool] = Field(min_length=1, max_length=300)
    ebp_id: str | None = Field(default=None, max_length=36, description="Admins only.")
    clearing_default: bool = Field(
        default=False,
        description="Whether a student who has not said takes any suitable placement when none "
        "of their choices is possible.",
    )

    @model_validator(mode="after")
    def _distinct_schools(self) -> RoundRequest:
        ids = [s.school_id for s in self.schools]
        if len(set(ids)) != len(ids):
            raise ValueError("a school is listed twice")
        return self


class RoundResponse(BaseModel):
    id: str
    name: str
    ebp_id: str
    year_group: int
    deadline: datetime
    schools: list[RoundSchool]
    published_run_id: str | None
    published_at: datetime | None
    clearing_default: bool


class RoundList(BaseModel):
    rounds: list[RoundResponse]


def _round_response(record: RoundRecord, school_ids: frozenset[str] | None) -> RoundResponse:
    return RoundResponse(
        id=record.id,
        name=record.name,
        ebp_id=record.ebp_id,
        year_group=record.year_group,
        deadline=record.deadline,
        schools=[
            RoundSchool.model_construct(school_id=school, weeks=list(weeks))
            for school, weeks in sorted(record.school_weeks.items())
            if school_ids is None or school in school_ids
        ],
        published_run_id=record.published_run_id,
        published_at=record.published_at,
        clearing_default=record.clearing_default,
    )


@routes.post(
    "/api/v1/rounds",
    summary="Open an allocation round for a set of schools",
    request=RoundRequest,
    responses={201: RoundResponse, 422: "Invalid"},
    tags=("rounds",),
    links={
        name: Link(method, f"/api/v1/rounds/{{round_id}}{tail}", {"round_id": "$response.body#/id"})
        for name, method, tail in (
            ("GetRound", "GET", ""),
            ("GetOptions", "GET", "/options"),
            ("GetAllocations", "GET", "/allocations"),
            ("StartRun", "POST", "/runs"),
            ("ListRuns", "GET", "/runs"),
            ("ListPins", "GET", "/pins"),
            ("RegisterSelfFound", "POST", "/self-found"),
            ("ListSelfFound", "GET", "/self-found"),
        )
    },
)
async def create_round(request: web.Request) -> web.Response:
    principal = require(request, Role.EBP, Role.ADMIN)
    body = await read_model(request, RoundRequest)
    if principal.is_admin:
        if body.ebp_id is None:
            raise Invalid("ebp_id", "An admin must name the EBP that runs the round.")
        ebp_id = body.ebp_id
    else:
        if principal.ebp_id is None or body.ebp_id not in (None, principal.ebp_id):
            raise forbidden("You may open rounds only for your own partnership.")
        ebp_id = principal.ebp_id
        for school in body.schools:
            require_school(principal, school.school_id)
    async with placements_context(request).unit_of_work() as uow:
        record = await open_round(
            OpenRound(
                ebp_id=ebp_id,
                name=body.name,
                year_group=body.year_group,
                deadline=body.deadline,
                school_weeks={s.school_id: s.weeks for s in body.schools},
                opened_by=principal.user_id,
                clearing_default=body.clearing_default,
            ),
            uow,
            clock(request),
        )
    return json_response(_round_response(record, None), status=201)


@routes.get(
    "/api/v1/rounds",
    summary="Rounds you run or take part in",
    responses={200: RoundList},
    tags=("rounds",),
)
async def list_rounds(request: web.Request) -> web.Response:
    principal = require(request)
    async with placements_context(request).reads() as reads:
        visible = await visible_rounds(reads, principal)
    shown = [_round_response(a.round, a.school_ids) for a in visible]
    return json_response(RoundList(rounds=shown))


@routes.get(
    "/api/v1/rounds/{round_id}",
    summary="One allocation round",
    responses={200: RoundResponse, 404: "No such round"},
    tags=("rounds",),
)
async def get_round(request: web.Request) -> web.Response:
    async with reading_round(request, require(request)) as (_, access):
        return json_response(_round_response(access.round, access.school_ids))
