"""Placement options with their scarcity, and each student's ranked preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.placements.application import preferences as preference_cases
from services.placements.application.employers import SLUG
from services.placements.application.errors import Invalid, NotFound
from services.placements.domain.model import MAX_PREFERENCES, Preference
from services.placements.entrypoints.access import (
    changing_round,
    reading_round,
    student_id_in_path,
)
from services.placements.entrypoints.context import clock
from services.placements.entrypoints.spec import spec
from shared.auth.principal import Role
from shared.auth.web import require
from shared.http.body import Strict, json_response, read_model, read_query
from shared.http.openapi import ApiRoutes

routes = ApiRoutes(spec)


class OptionsQuery(Strict):
    school_id: str | None = Field(default=None, max_length=36)


class Demand(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    places: int
    demand: int
    ratio: float | None = Field(description="Students wanting each place (demand / places).")
    scarce: bool


class SectorOption(BaseModel):
    sector: str
    demand: Demand


class PlacementOptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    placement_id: str
    employer_name: str
    title: str
    sector: str
    postcode_district: str | None
    weeks: list[str]
    minimum_age: int
    accessibility: list[str]
    demand: Demand


class OptionsResponse(BaseModel):
    school_id: str
    sectors: list[SectorOption]
    placements: list[PlacementOptionOut]


@routes.get(
    "/api/v1/rounds/{round_id}/options",
    summary="Sectors and placements to choose from, with scarce ones flagged",
    query=OptionsQuery,
    responses={200: OptionsResponse, 404: "No such round"},
    tags=("preferences",),
)
async def options(request: web.Request) -> web.Response:
    principal = require(request)
    async with reading_round(request, principal) as (s, access):
        query = read_query(request, OptionsQuery)
        if principal.role is Role.STUDENT:
            school_id = await preference_cases.student_school(s, access.round, principal.user_id)
        else:
            visible = sorted(access.school_ids or access.round.school_weeks)
            school_id = query.school_id or (visible[0] if len(visible) == 1 else "")
            if not school_id:
                raise Invalid("school_id", "Name the school whose options you want to see.")
            if school_id not in visible:
                raise NotFound("No such school in this round.")
        sectors, placements = await preference_cases.round_options(
            s, access.round, school_id, clock(request).date()
        )
    return json_response(
        OptionsResponse(
            school_id=school_id,
            sectors=[SectorOption(sector=d.key, demand=Demand.model_validate(d)) for d in sectors],
            placements=[PlacementOptionOut.model_validate(o) for o in placements],
        )
    )


class ChoiceIn(Strict):
    placement_id: str | None = Field(default=None, min_length=1, max_length=36)
    sector: str | None = Field(default=None, pattern=SLUG)

    @model_validator(mode="after")
    def _one_of(self) -> ChoiceIn:
        if (self.placement_id is None) == (self.sector is None):
            raise ValueError("name either a placement_id or a sector")
        return self


class PreferencesRequest(Strict):
    choices: list[ChoiceIn] = Field(min_length=1, max_length=MAX_PREFERENCES)
    travel_limit_km: float = Field(gt=0, le=80)
    access_needs: list[str] = Field(default_factory=list, max_length=10)
    clearing: bool | None = Field(
        default=None,
        description="If none of these choices is possible, any suitable placement. "
        "Left out, the round's default applies.",
    )

    @model_validator(mode="after")
    def _needs(self) -> PreferencesRequest:
        for need in self.access_needs:
            if not need.replace("_", "").isalnum() or not need.islower() or len(need) > 40:
                raise ValueError(f"access need {need!r}: use lower-case words joined by _")
        return self


class PreferencesResponse(BaseModel):
    round_id: str
    student_id: str
    choices: list[ChoiceIn]
    travel_limit_km: float
    access_needs: list[str]
    submitted_at: datetime
    clearing: bool | None


def _preferences_response(round_id: str, stated: Any) -> PreferencesResponse:
    return PreferencesResponse(
        round_id=round_id,
        student_id=stated.student_id,
        choices=[ChoiceIn(placement_id=c.placement_id, sector=c.sector) for c in stated.choices],
        travel_limit_km=stated.travel_limit_km,
        access_needs=stated.access_needs,
        submitted_at=stated.submitted_at,
        clearing=stated.clearing,
    )


@routes.put(
    "/api/v1/rounds/{round_id}/students/{student_id}/preferences",
    summary="Submit or replace a student's ranked preferences (students: use 'me')",
    request=PreferencesRequest,
    responses={200: PreferencesResponse, 404: "Not in this round", 409: "Closed", 422: "Invalid"},
    tags=("preferences",),
)
async def put_preferences(request: web.Request) -> web.Response:
    principal = require(request, Role.STUDENT, Role.EBP, Role.ADMIN)
    body = await read_model(request, PreferencesRequest)
    async with changing_round(request, principal, manager=False) as (uow, access):
        student_id = student_id_in_path(request, principal)
        if principal.role is Role.STUDENT:
            access.require_student_record(student_id, None)
        else:
            access.require_manager()
        cmd = preference_cases.SubmitPreferences(
            round_=access.round,
            student_id=student_id,
            choices=[
                Preference(placement_id=c.placement_id, sector=c.sector) for c in body.choices
            ],
            travel_limit_km=body.travel_limit_km,
            access_needs=body.access_needs,
            clearing=body.clearing,
        )
        stated = await preference_cases.submit_preferences(cmd, uow, clock(request))
    return json_response(_preferences_response(access.round.id, stated))


@routes.get(
    "/api/v1/rounds/{round_id}/students/{student_id}/preferences",
    summary="A student's preferences (students: use 'me')",
    responses={200: PreferencesResponse, 404: "None stated"},
    tags=("preferences",),
)
async def get_preferences(request: web.Request) -> web.Response:
    principal = require(request)
    async with reading_round(request, principal) as (s, access):
        student_id = student_id_in_path(request, principal)
        school_id = await preference_cases.student_school(s, access.round, student_id)
        access.require_student_record(student_id, school_id)
        stated = await preference_cases.stated_preferences(s, access.round, student_id, school_id)
    if stated is None:
        raise NotFound("No preferences have been submitted yet.")
    return json_response(_preferences_response(access.round.id, stated))
