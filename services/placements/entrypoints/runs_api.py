"""Matching runs: start, follow, compare, read results, publish."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from services.placements.application import publication, runs
from services.placements.application.errors import NotFound
from services.placements.application.ports import RunSummary
from services.placements.application.run_progress import run_status
from services.placements.entrypoints.access import (
    changing_round,
    reading_round,
)
from services.placements.entrypoints.context import clock, placements_context
from services.placements.entrypoints.spec import spec
from shared.auth.principal import Role
from shared.auth.web import require
from shared.http.body import Strict, json_response, read_model, read_query
from shared.http.openapi import ApiRoutes, Link

routes = ApiRoutes(spec)


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


class RunProgressResponse(BaseModel):
    run_id: str
    status: Literal["running", "completed", "failed"]
    stage: str | None = Field(description="the engine's current stage while running")
    stage_name: str = Field(description="the stage in plain English, for a progress line")
    done: int = Field(ge=0, description="stages of the run finished")
    total: int = Field(ge=0, description="stages the run has")
    percent: int = Field(ge=0, le=100, description="of the run's stages; 100 once it has ended")


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


def _run_response(run: RunSummary) -> RunResponse:
    return RunResponse.model_validate(run.__dict__)


@routes.post(
    "/api/v1/rounds/{round_id}/runs",
    summary="Start a matching run (poll the run until it completes)",
    request=RunRequest,
    responses={202: RunResponse, 409: "A run is in progress or the round is published"},
    tags=("runs",),
    links={
        name: Link(
            "GET",
            f"/api/v1/rounds/{{round_id}}/runs/{{run_id}}{tail}",
            {"round_id": "$response.body#/round_id", "run_id": "$response.body#/id"},
        )
        for name, tail in (("GetRun", ""), ("GetResults", "/results"))
    },
)
async def start_run(request: web.Request) -> web.Response:
    principal = require(request, Role.EBP, Role.ADMIN)
    body = await read_model(request, RunRequest)
    async with changing_round(request, principal) as (uow, access):
        cmd = runs.RequestRun(access.round, body.seed, principal.user_id)
        run = await runs.request_run(cmd, uow, clock(request))
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
    async with reading_round(request, require(request), manager=True) as (s, access):
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
    async with reading_round(request, require(request), manager=True) as (s, access):
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
    async with reading_round(request, require(request), manager=True) as (s, access):
        run = await runs.get_run(s, access.round, request.match_info["run_id"])
    return json_response(_run_response(run))


@routes.get(
    "/api/v1/rounds/{round_id}/runs/{run_id}/progress",
    summary="How far a running matching has got: poll while it is running",
    responses={200: RunProgressResponse, 404: "No such run"},
    tags=("runs",),
)
async def get_run_progress(request: web.Request) -> web.Response:
    async with reading_round(request, require(request), manager=True) as (reads, access):
        found = await run_status(reads, access.round, request.match_info["run_id"])
    response = json_response(
        RunProgressResponse(
            run_id=found.run_id,
            status=found.status,
            stage=found.stage,
            stage_name=found.stage_name,
            done=found.done,
            total=found.total,
            percent=found.percent,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get(
    "/api/v1/rounds/{round_id}/runs/{run_id}/results",
    summary="Who a run placed where, and why the others are unplaced",
    responses={200: RunResultsResponse, 404: "No such run"},
    tags=("runs",),
)
async def get_run_results(request: web.Request) -> web.Response:
    principal = require(request, Role.EBP, Role.ADMIN, Role.COORDINATOR)
    run_id = request.match_info["run_id"]
    async with reading_round(request, principal) as (s, access):
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
    async with changing_round(request, require(request, Role.EBP, Role.ADMIN)) as (uow, access):
        cmd = publication.PublishRun(access.round, run_id)
        published = await publication.publish_run(cmd, uow, clock(request))
    return json_response(
        PublishResponse(
            run_id=run_id, allocations=published.allocations, employers=published.employers
        )
    )
