"""A round's matching runs on EBP staff's pages: start one and follow its progress (the page
polls a small JSON status with JavaScript, or shows the progress again when refreshed), read
its results with charts, pin students, compare two runs, and publish one."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from typing import Any

from aiohttp import web

from services.placements.application import pins as pin_cases
from services.placements.application import publication, runs
from services.placements.application.errors import Conflict, Invalid, PlacementsError
from services.placements.application.overview import (
    all_schools,
    placement_names,
    student_reference,
)
from services.placements.application.run_progress import run_status
from services.placements.domain.weeks import ISO_WEEK_PATTERN
from services.placements.entrypoints.access import changing_round
from services.placements.entrypoints.context import clock, placements_context
from services.placements.entrypoints.pages_charts import (
    BAR_HEIGHT,
    LABEL_WIDTH,
    RANK_HEIGHT,
    WIDTH,
    rank_bars,
    school_bars,
)
from services.placements.entrypoints.pages_common import (
    EBP_NAV,
    REASONS,
    ebp_staff,
    managed_round,
    page,
    refusal_status,
    who,
)
from services.placements.entrypoints.pages_rounds import render_round
from services.placements.entrypoints.runs_api import CompareQuery, RunRequest
from shared.http.body import json_response

routes = web.RouteTableDef()

RUN = "/placements/ebp/rounds/{round_id}/runs/{run_id}"
MEASURES = {
    "placed": "Students placed",
    "placed_within_preferences": "Placed within their choices",
    "placed_through_clearing": "Placed through clearing",
    "feasible_bound": "Most any allocation could place",
    "max_placeable": "Most any allocation could place within choices",
    "placed_share_of_max": "Share of that most placed",
    "mean_rank": "Average choice got (1 is first choice)",
    "lowest_school_rate": "Lowest school's placement rate",
    "best_lowest_school_rate": "Best possible lowest school's rate",
    "lowest_rate_ratio": "Lowest school's rate against the best possible",
    "blocking_pairs": "Students who would swap with a willing place",
}
SHOWN_UNPLACED = 200
SHOWN_PLACED = 300


def _run_path(round_id: str, run_id: str) -> str:
    return RUN.format(round_id=round_id, run_id=run_id)


@routes.post("/placements/ebp/rounds/{round_id}/runs")
async def start_run(request: web.Request) -> web.StreamResponse:
    principal = ebp_staff(request)
    seed = str((await request.post()).get("seed", "0")).strip() or "0"
    round_id = request.match_info["round_id"]
    try:
        body = RunRequest.model_validate({"seed": int(seed)})
    except ValueError:
        return await _round_error(
            request, Invalid("seed", "Give the seed as a whole number, such as 0 or 42.")
        )
    try:
        async with changing_round(request, principal) as (uow, access):
            cmd = runs.RequestRun(access.round, body.seed, principal.user_id)
            run = await runs.request_run(cmd, uow, clock(request))
    except PlacementsError as exc:
        return await _round_error(request, exc)
    placements_context(request).runner.start(run.id)
    raise web.HTTPSeeOther(_run_path(round_id, run.id))


async def _round_error(request: web.Request, exc: PlacementsError) -> web.Response:
    return await render_round(
        request, ebp_staff(request), error=exc.message, status=refusal_status(exc)
    )


@routes.get("/placements/ebp/rounds/{round_id}/runs/{run_id}/status")
async def status(request: web.Request) -> web.Response:
    """How far the run has got, for the run's page to poll (not part of the public API)."""
    principal = ebp_staff(request)
    async with managed_round(request, principal) as (reads, access):
        found = await run_status(reads, access.round, request.match_info["run_id"])
    response = json_response(
        {
            "status": found.status,
            "stage": found.stage_name,
            "done": found.done,
            "total": found.total,
            "percent": found.percent,
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get(RUN)
async def run_page(request: web.Request) -> web.Response:
    principal = ebp_staff(request)
    run_id = request.match_info["run_id"]
    async with managed_round(request, principal) as (reads, access):
        round_ = access.round
        run = await runs.get_run(reads, round_, run_id)
        if run.status != runs.COMPLETED:
            progress = await run_status(reads, round_, run_id)
            return page(
                request,
                "ebp_run_progress.html",
                {"nav": EBP_NAV, "round": round_, "run": run, "progress": progress},
            )
        results = await runs.run_results(reads, run_id, None)
        pinned = {p.student_id for p in await pin_cases.list_pins(reads, round_)}
        schools = await all_schools(reads, round_.school_weeks)
        names = await placement_names(reads, [a["placement_id"] for a in results.assignments])
    report: dict[str, Any] = run.report or {}
    bars, bars_height = school_bars(report.get("schools", {}), schools)
    ranks = rank_bars(
        report.get("rank_distribution", {}), int(report.get("placed_through_clearing", 0))
    )

    def label(row: dict[str, Any]) -> str:
        return who(row["student_id"], round_.year_group, schools.get(row["school_id"], ""))

    placed = [
        {**a, "who": label(a), "names": names.get(a["placement_id"], ("A placement", ""))}
        for a in results.assignments[:SHOWN_PLACED]
    ]
    unplaced = sorted(
        (
            {**u, "who": label(u), "why": REASONS.get(u["reason"], u["reason"])}
            for u in results.unplaced
        ),
        key=lambda u: u["who"],
    )
    return page(
        request,
        "ebp_run.html",
        {
            "nav": EBP_NAV,
            "round": round_,
            "run": run,
            "report": report,
            "measures": MEASURES,
            "bars": bars,
            "bars_height": bars_height,
            "ranks": ranks,
            "width": WIDTH,
            "label_width": LABEL_WIDTH,
            "bar_height": BAR_HEIGHT,
            "rank_height": RANK_HEIGHT,
            "placed": placed,
            "placed_total": len(results.assignments),
            "unplaced": unplaced[:SHOWN_UNPLACED],
            "unplaced_total": len(unplaced),
            "by_reason": Counter(u["why"] for u in unplaced).most_common(),
            "pinned": pinned,
            "notice": "The student is pinned: every new run keeps this placement for them."
            if request.query.get("notice") == "pinned"
            else None,
        },
    )


@routes.get(RUN + "/results.csv")
async def results_csv(request: web.Request) -> web.StreamResponse:
    """Every result of a completed run, which the run's page lists only the first of: a
    student by reference, year group (the round's) and school, as the page shows them, never
    by name."""
    principal = ebp_staff(request)
    run_id = request.match_info["run_id"]
    async with managed_round(request, principal) as (reads, access):
        round_ = access.round
        found = await runs.get_run(reads, round_, run_id)  # an unknown run is a 404
        try:
            runs.require_completed(found)
        except Conflict as exc:
            raise web.HTTPConflict(text=exc.message) from exc
        results = await runs.run_results(reads, run_id, None)
        schools = await all_schools(reads, round_.school_weeks)
        names = await placement_names(reads, [a["placement_id"] for a in results.assignments])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        (
            "student",
            "year_group",
            "school",
            "outcome",
            "placement",
            "employer",
            "week",
            "rank",
            "reason",
        )
    )
    for a in results.assignments:
        title, employer = names.get(a["placement_id"], ("", ""))
        how = "pinned" if a["pinned"] else "clearing" if a["cleared"] else "preferences"
        writer.writerow(
            (
                student_reference(a["student_id"]),
                round_.year_group,
                schools.get(a["school_id"], ""),
                f"placed ({how})",
                title,
                employer,
                a["week"],
                a["rank"] if a["rank"] is not None else "",
                "",
            )
        )
    for u in results.unplaced:
        writer.writerow(
            (
                student_reference(u["student_id"]),
                round_.year_group,
                schools.get(u["school_id"], ""),
                "unplaced",
                "",
                "",
                "",
                "",
                REASONS.get(u["reason"], u["reason"]),
            )
        )
    response = web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="results-{run_id}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.post(RUN + "/pins")
async def pin(request: web.Request) -> web.StreamResponse:
    """Pin a student to the placement this run gave them."""
    principal = ebp_staff(request)
    posted = await request.post()
    student_id = str(posted.get("student_id", ""))
    placement_id = str(posted.get("placement_id", ""))
    week = str(posted.get("week", ""))
    path = _run_path(request.match_info["round_id"], request.match_info["run_id"])
    if not (student_id and placement_id) or not re.fullmatch(ISO_WEEK_PATTERN, week):
        raise web.HTTPSeeOther(path)
    try:
        async with changing_round(request, principal) as (uow, access):
            cmd = pin_cases.PinStudent(
                access.round, student_id, placement_id, week, pinned_by=principal.user_id
            )
            await pin_cases.pin_student(cmd, uow, clock(request))
    except PlacementsError as exc:
        return await _round_error(request, exc)
    raise web.HTTPSeeOther(path + "?notice=pinned")


@routes.post(RUN + "/publication")
async def publish(request: web.Request) -> web.StreamResponse:
    principal = ebp_staff(request)
    round_id = request.match_info["round_id"]
    try:
        async with changing_round(request, principal) as (uow, access):
            cmd = publication.PublishRun(access.round, request.match_info["run_id"])
            await publication.publish_run(cmd, uow, clock(request))
    except PlacementsError as exc:
        return await _round_error(request, exc)
    raise web.HTTPSeeOther(f"/placements/ebp/rounds/{round_id}?notice=published")


@routes.get("/placements/ebp/rounds/{round_id}/comparison")
async def compare(request: web.Request) -> web.Response:
    principal = ebp_staff(request)
    try:
        query = CompareQuery.model_validate(dict(request.query))
    except ValueError:
        raise web.HTTPSeeOther(f"/placements/ebp/rounds/{request.match_info['round_id']}") from None
    try:
        async with managed_round(request, principal) as (reads, access):
            comparison = await runs.compare_runs(reads, access.round, query.first, query.second)
            first = await runs.get_run(reads, access.round, query.first)
            second = await runs.get_run(reads, access.round, query.second)
            round_ = access.round
    except PlacementsError as exc:
        return await _round_error(request, exc)
    return page(
        request,
        "ebp_compare.html",
        {
            "nav": EBP_NAV,
            "round": round_,
            "first": first,
            "second": second,
            "comparison": comparison,
            "measures": MEASURES,
        },
    )
