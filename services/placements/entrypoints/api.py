"""Placements' HTTP API (JSON). Paths under /api/v1 are the public contract.

EBP staff manage their own partnership's rounds (an admin any round); a coordinator reads their
school's part of a round; a student reads and writes only their own preferences and sees only
their own allocation. A round the caller has no part in answers 404, so that other
partnerships' rounds are not revealed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.repository import RoundRecord, load_placements, load_round
from services.placements.application import pins as pin_cases
from services.placements.application import preferences as preference_cases
from services.placements.application import publication, runs, self_found
from services.placements.application.access import Forbidden, RoundAccess, round_access
from services.placements.application.employers import SLUG
from services.placements.application.errors import Conflict, Invalid, NotFound, PlacementsError
from services.placements.application.rounds import OpenRound, open_round, visible_rounds
from services.placements.domain.eligibility import vetting_warnings
from services.placements.domain.model import MAX_PREFERENCES
from services.placements.domain.weeks import ISO_WEEK_PATTERN, normalise
from services.placements.entrypoints.context import placements_context
from shared.auth.principal import Principal, Role
from shared.auth.web import require, require_school
from shared.http.body import Day, Instant, Strict, json_response, read_model, read_query
from shared.http.openapi import ApiRoutes, ApiSpec
from shared.http.problems import Problem, conflict, forbidden
from shared.uow import UnitOfWork

spec = ApiSpec("Signpost placements", "1.0", "The work-experience clearing house.")
routes = ApiRoutes(spec)

ME = "me"


def translate_placements_error(error: Exception) -> Problem | None:
    """The shared problems middleware's translator: the use cases' failures as problems."""
    if isinstance(error, NotFound):
        return Problem(404, "Not found", error.message, type_=error.kind)
    if isinstance(error, Forbidden):
        return forbidden(error.message)
    if isinstance(error, Invalid):
        return Problem(
            422,
            "Invalid request",
            f"{error.field}: {error.message}",
            type_=error.kind,
            errors=[{"field": error.field, "message": error.message}],
        )
    if isinstance(error, Conflict):
        return conflict(error.message, type_=error.kind)
    if isinstance(error, PlacementsError):
        return Problem(400, "Bad request", error.message, type_=error.kind)
    return None


async def _access(
    session: AsyncSession, request: web.Request, principal: Principal, *, for_update: bool = False
) -> RoundAccess:
    record = await load_round(session, request.match_info["round_id"], for_update=for_update)
    return round_access(principal, record)


@asynccontextmanager
async def _reading_round(
    request: web.Request, principal: Principal, *, manager: bool = False
) -> AsyncIterator[tuple[AsyncSession, RoundAccess]]:
    """A read transaction, and the caller's access to the path's round as it reads there."""
    async with placements_context(request).db.read_session() as s:
        access = await _access(s, request, principal)
        if manager:
            access.require_manager()
        yield s, access


@asynccontextmanager
async def _changing_round(
    request: web.Request, principal: Principal, *, manager: bool = True
) -> AsyncIterator[tuple[UnitOfWork, RoundAccess]]:
    """A unit of work, and the caller's access to the path's round, read (and locked) in it.

    Checks on the round's state (published yet? deadline passed?) are then made on the row
    this transaction writes against. Read the request body before: nothing waits on the
    client while the round is locked.
    """
    async with placements_context(request).unit_of_work() as uow:
        access = await _access(uow.session, request, principal, for_update=True)
        if manager:
            access.require_manager()
        yield uow, access


def _student_id(request: web.Request, principal: Principal) -> str:
    student_id = request.match_info["student_id"]
    if student_id == ME:
        if principal.role is not Role.STUDENT:
            raise Problem(
                404, "Not found", "Only students have their own preferences.", type_="not-found"
            )
        return principal.user_id
    return student_id


# --- rounds ---------------------------------------------------------------------------------


class RoundSchool(Strict):
    school_id: str = Field(min_length=1, max_length=36)
    weeks: list[str] = Field(min_length=1, max_length=6)

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
    )


@routes.post(
    "/api/v1/rounds",
    summary="Open an allocation round for a set of schools",
    request=RoundRequest,
    responses={201: RoundResponse, 422: "Invalid"},
    tags=("rounds",),
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
            uow,
            OpenRound(
                ebp_id=ebp_id,
                name=body.name,
                year_group=body.year_group,
                deadline=body.deadline,
                school_weeks={s.school_id: s.weeks for s in body.schools},
                opened_by=principal.user_id,
            ),
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
    async with placements_context(request).db.read_session() as s:
        visible = await visible_rounds(s, principal)
    shown = [_round_response(a.round, a.school_ids) for a in visible]
    return json_response(RoundList(rounds=shown))


@routes.get(
    "/api/v1/rounds/{round_id}",
    summary="One allocation round",
    responses={200: RoundResponse, 404: "No such round"},
    tags=("rounds",),
)
async def get_round(request: web.Request) -> web.Response:
    async with _reading_round(request, require(request)) as (_, access):
        return json_response(_round_response(access.round, access.school_ids))


# --- options and preferences ----------------------------------------------------------------


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
    async with _reading_round(request, principal) as (s, access):
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
            s, access.round, school_id, datetime.now(UTC).date()
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


def _preferences_response(round_id: str, stated: Any) -> PreferencesResponse:
    return PreferencesResponse(
        round_id=round_id,
        student_id=stated.student_id,
        choices=[ChoiceIn(placement_id=c.placement_id, sector=c.sector) for c in stated.choices],
        travel_limit_km=stated.travel_limit_km,
        access_needs=stated.access_needs,
        submitted_at=stated.submitted_at,
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
    async with _changing_round(request, principal, manager=False) as (uow, access):
        student_id = _student_id(request, principal)
        if principal.role is Role.STUDENT:
            access.require_student_record(student_id, None)
        else:
            access.require_manager()
        cmd = preference_cases.SubmitPreferences(
            student_id=student_id,
            choices=[
                preference_cases.Choice(placement_id=c.placement_id, sector=c.sector)
                for c in body.choices
            ],
            travel_limit_km=body.travel_limit_km,
            access_needs=body.access_needs,
        )
        stated = await preference_cases.submit_preferences(uow, access.round, cmd)
    return json_response(_preferences_response(access.round.id, stated))


@routes.get(
    "/api/v1/rounds/{round_id}/students/{student_id}/preferences",
    summary="A student's preferences (students: use 'me')",
    responses={200: PreferencesResponse, 404: "None stated"},
    tags=("preferences",),
)
async def get_preferences(request: web.Request) -> web.Response:
    principal = require(request)
    async with _reading_round(request, principal) as (s, access):
        student_id = _student_id(request, principal)
        school_id = await preference_cases.student_school(s, access.round, student_id)
        access.require_student_record(student_id, school_id)
        stated = await preference_cases.stated_preferences(s, access.round, student_id, school_id)
    if stated is None:
        raise NotFound("No preferences have been submitted yet.")
    return json_response(_preferences_response(access.round.id, stated))


# --- self-found placements ------------------------------------------------------------------


class SelfFoundRequest(Strict):
    student_id: str | None = Field(default=None, max_length=36, description="Staff only.")
    employer_name: str = Field(min_length=1, max_length=200)
    contact_email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)
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
    async with _changing_round(request, principal, manager=False) as (uow, access):
        if principal.role is Role.STUDENT:
            student_id = body.student_id or principal.user_id
            access.require_student_record(student_id, None)
        else:
            access.require_manager()
            if body.student_id is None:
                raise Invalid("student_id", "Staff must name the student.")
            student_id = body.student_id
        cmd = self_found.RegisterSelfFound(
            student_id=student_id,
            employer_name=body.employer_name,
            contact_email=body.contact_email,
            postcode=body.postcode,
            sector=body.sector,
            week=body.week,
        )
        row = await self_found.register_self_found(uow, access.round, cmd)
    return json_response(_self_found_response(row), status=201)


@routes.get(
    "/api/v1/rounds/{round_id}/self-found",
    summary="Self-found placements you may see",
    responses={200: SelfFoundList},
    tags=("self-found",),
)
async def list_self_found(request: web.Request) -> web.Response:
    principal = require(request)
    async with _reading_round(request, principal) as (s, access):
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
    cmd = self_found.ApproveSelfFound(
        self_found_id=request.match_info["self_found_id"],
        health_safety_expires=body.health_safety_expires,
        insurance_expires=body.insurance_expires,
        minimum_age=body.minimum_age,
        approved_by=principal.user_id,
        latitude=body.latitude,
        longitude=body.longitude,
    )
    async with _changing_round(request, principal) as (uow, access):
        row = await self_found.approve_self_found(uow, access.round, cmd)
    return json_response(_self_found_response(row))


@routes.post(
    "/api/v1/rounds/{round_id}/self-found/{self_found_id}/rejection",
    summary="Reject a self-found placement",
    responses={204: "Rejected", 409: "Already decided"},
    tags=("self-found",),
)
async def reject_self_found(request: web.Request) -> web.Response:
    async with _changing_round(request, require(request, Role.EBP, Role.ADMIN)) as (uow, access):
        await self_found.reject_self_found(uow, access.round, request.match_info["self_found_id"])
    return web.Response(status=204)


# --- pins -----------------------------------------------------------------------------------


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


def _pin_response(pin: pin_cases.PinRecord) -> PinResponse:
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
    async with _reading_round(request, require(request), manager=True) as (s, access):
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
    async with _changing_round(request, principal) as (uow, access):
        pin = await pin_cases.pin_student(
            uow,
            access.round,
            request.match_info["student_id"],
            body.placement_id,
            body.week,
            pinned_by=principal.user_id,
        )
    return json_response(_pin_response(pin))


@routes.delete(
    "/api/v1/rounds/{round_id}/pins/{student_id}",
    summary="Unpin a student",
    responses={204: "Unpinned", 404: "No pin"},
    tags=("runs",),
)
async def delete_pin(request: web.Request) -> web.Response:
    async with _changing_round(request, require(request, Role.EBP, Role.ADMIN)) as (uow, access):
        await pin_cases.unpin_student(uow, access.round, request.match_info["student_id"])
    return web.Response(status=204)


# --- runs -----------------------------------------------------------------------------------


class RunRequest(Strict):
    seed: int = Field(default=0, ge=0, le=2**63 - 1)


class RunResponse(BaseModel):
    id: str
    round_id: str
    seed: int
    status: Literal["running", "completed", "failed"]
    started_at: datetime
    finished_at: datetime | None
    report: dict[str, Any] | None
    error: str | None


class RunList(BaseModel):
    runs: list[RunResponse]


class CompareQuery(Strict):
    first: str = Field(min_length=1, max_length=36)
    second: str = Field(min_length=1, max_length=36)


class RunComparisonResponse(BaseModel):
    measures: dict[str, dict[str, Any]]
    students_moved: int
    students_placed_only_in_first: int
    students_placed_only_in_second: int
    changes: list[dict[str, Any]]


class RunResultsResponse(BaseModel):
    run_id: str
    assignments: list[dict[str, Any]]
    unplaced: list[dict[str, Any]]


def _run_response(run: runs.RunSummary) -> RunResponse:
    return RunResponse.model_validate(run.__dict__)


@routes.post(
    "/api/v1/rounds/{round_id}/runs",
    summary="Start a matching run (poll the run until it completes)",
    request=RunRequest,
    responses={202: RunResponse, 409: "A run is in progress or the round is published"},
    tags=("runs",),
)
async def start_run(request: web.Request) -> web.Response:
    principal = require(request, Role.EBP, Role.ADMIN)
    body = await read_model(request, RunRequest)
    async with _changing_round(request, principal) as (uow, access):
        run = await runs.request_run(uow, access.round, body.seed, principal.user_id)
    placements_context(request).runner.start(run.id)
    response = json_response(_run_response(run), status=202)
    response.headers["Location"] = f"/api/v1/rounds/{run.round_id}/runs/{run.id}"
    return response


@routes.get(
    "/api/v1/rounds/{round_id}/runs",
    summary="Every matching run of the round",
    responses={200: RunList},
    tags=("runs",),
)
async def list_runs(request: web.Request) -> web.Response:
    async with _reading_round(request, require(request), manager=True) as (s, access):
        found = await runs.list_runs(s, access.round)
    return json_response(RunList(runs=[_run_response(r) for r in found]))


@routes.get(
    "/api/v1/rounds/{round_id}/runs/comparison",
    summary="Compare two runs: measures side by side and students who would move",
    query=CompareQuery,
    responses={200: RunComparisonResponse, 409: "Not completed"},
    tags=("runs",),
)
async def compare_runs(request: web.Request) -> web.Response:
    async with _reading_round(request, require(request), manager=True) as (s, access):
        query = read_query(request, CompareQuery)
        comparison = await runs.compare_runs(s, access.round, query.first, query.second)
    return json_response(RunComparisonResponse.model_validate(comparison.__dict__))


@routes.get(
    "/api/v1/rounds/{round_id}/runs/{run_id}",
    summary="A run's status and measures",
    responses={200: RunResponse, 404: "No such run"},
    tags=("runs",),
)
async def get_run(request: web.Request) -> web.Response:
    async with _reading_round(request, require(request), manager=True) as (s, access):
        run = await runs.get_run(s, access.round, request.match_info["run_id"])
    return json_response(_run_response(run))


@routes.get(
    "/api/v1/rounds/{round_id}/runs/{run_id}/results",
    summary="Who a run placed where, and why the others are unplaced",
    responses={200: RunResultsResponse, 404: "No such run"},
    tags=("runs",),
)
async def get_run_results(request: web.Request) -> web.Response:
    principal = require(request, Role.EBP, Role.ADMIN, Role.COORDINATOR)
    run_id = request.match_info["run_id"]
    async with _reading_round(request, principal) as (s, access):
        if not access.manages and access.round.published_run_id != run_id:
            # A school sees only what the EBP published, never its trial runs.
            raise NotFound("No such published run in this round.")
        runs.require_completed(await runs.get_run(s, access.round, run_id))
        results = await runs.run_results(s, run_id, access.school_ids)
    return json_response(
        RunResultsResponse(
            run_id=run_id, assignments=results.assignments, unplaced=results.unplaced
        )
    )


class PublishResponse(BaseModel):
    run_id: str
    allocations: int
    employers: int


@routes.post(
    "/api/v1/rounds/{round_id}/runs/{run_id}/publication",
    summary="Publish a run's allocations to students, schools and employers",
    responses={200: PublishResponse, 409: "Already published or not completed"},
    tags=("publication",),
)
async def publish(request: web.Request) -> web.Response:
    run_id = request.match_info["run_id"]
    async with _changing_round(request, require(request, Role.EBP, Role.ADMIN)) as (uow, access):
        published = await publication.publish_run(uow, access.round, run_id)
    return json_response(
        PublishResponse(
            run_id=run_id, allocations=published.allocations, employers=published.employers
        )
    )


# --- after publication ----------------------------------------------------------------------


class AllocationOut(BaseModel):
    student_id: str
    school_id: str
    placement_id: str
    employer_id: str
    week: str
    rank: int | None
    status: Literal["published", "confirmed"]
    pinned: bool


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
    async with _reading_round(request, principal) as (s, access):
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
    async with _changing_round(request, require(request, Role.EBP, Role.ADMIN)) as (uow, access):
        confirmed = await publication.confirm_employer(uow, access.round, employer_id)
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
    async with _changing_round(request, principal) as (uow, access):
        outcome = await publication.withdraw(
            uow,
            access.round,
            student_id=body.student_id,
            placement_id=body.placement_id,
            recorded_by=principal.user_id,
        )
    return json_response(
        WithdrawalResponse(withdrawn=outcome.withdrawn, newly_allocated=outcome.newly_allocated)
    )


# --- vetting --------------------------------------------------------------------------------


class WarningsQuery(Strict):
    days: int = Field(default=30, ge=0, le=365)


class VettingWarningOut(BaseModel):
    placement_id: str
    employer_id: str
    check: str
    expires: date
    expired: bool


class VettingWarningList(BaseModel):
    warnings: list[VettingWarningOut]


@routes.get(
    "/api/v1/vetting-warnings",
    summary="Health and safety checks and insurance lapsed or lapsing soon",
    query=WarningsQuery,
    responses={200: VettingWarningList},
    tags=("employers",),
)
async def warnings(request: web.Request) -> web.Response:
    principal = require(request, Role.EBP, Role.ADMIN)
    query = read_query(request, WarningsQuery)
    if not principal.is_admin and principal.ebp_id is None:
        raise forbidden("Your account is not linked to a partnership.")
    async with placements_context(request).db.read_session() as s:
        catalogue = await load_placements(s, None if principal.is_admin else principal.ebp_id)
    found = vetting_warnings(catalogue, datetime.now(UTC).date(), query.days)
    return json_response(
        VettingWarningList(
            warnings=[
                VettingWarningOut(
                    placement_id=w.placement_id,
                    employer_id=w.employer_id,
                    check=w.check.value,
                    expires=w.expires,
                    expired=w.expired,
                )
                for w in found
            ]
        )
    )
