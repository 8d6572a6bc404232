"""EBP staff's allocation rounds: the list, opening one, and one round's page (its schools,
runs, pins, and after publication its allocations, withdrawals and clearing)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from services.placements.application import clearing, publication, runs
from services.placements.application import pins as pin_cases
from services.placements.application.errors import PlacementsError
from services.placements.application.overview import (
    all_schools,
    placement_names,
    preference_count,
    student_reference,
)
from services.placements.application.rounds import OpenRound, open_round, visible_rounds
from services.placements.entrypoints.access import changing_round
from services.placements.entrypoints.context import clock, placements_context
from services.placements.entrypoints.pages_common import (
    EBP_NAV,
    ebp_staff,
    managed_round,
    page,
    refusal_status,
    who,
)
from services.placements.entrypoints.rounds_api import RoundRequest
from shared.auth.principal import Principal
from shared.http.pages import LONDON

routes = web.RouteTableDef()

DEADLINE_TIME = time(17, 0)
NOTICES = {
    "opened": "The round is open. Students in its schools can now choose their placements.",
    "published": "The allocations are published. Students, schools and employers will be told.",
    "pinned": "The student is pinned: every new run keeps this placement for them.",
    "unpinned": "The pin is removed.",
    "withdrawn": "The withdrawal is recorded and the freed places re-matched.",
    "cleared": "Clearing is done: opted-in students still unplaced were offered the places free.",
}


@routes.get("/placements/ebp/rounds")
async def rounds_page(request: web.Request) -> web.Response:
    principal = ebp_staff(request)
    return await _render_rounds(request, principal)


async def _render_rounds(
    request: web.Request,
    principal: Principal,
    *,
    form: dict[str, object] | None = None,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    ctx = placements_context(request)
    async with ctx.reads() as reads:
        rounds = [a.round for a in await visible_rounds(reads, principal)]
        schools = await all_schools(reads, principal.school_ids)
    today = ctx.clock().astimezone(LONDON).date()
    return page(
        request,
        "ebp_rounds.html",
        {
            "nav": EBP_NAV,
            "rounds": sorted(rounds, key=lambda r: r.created_at, reverse=True),
            "schools": schools,
            "form": form
            or {
                "name": "",
                "year_group": 10,
                "deadline": (today + timedelta(days=28)).isoformat(),
                "weeks": "",
                "school_ids": [],
                "clearing_default": False,
            },
            "error": error,
        },
        status=status,
    )


@routes.post("/placements/ebp/rounds")
async def create_round(request: web.Request) -> web.StreamResponse:
    principal = ebp_staff(request)
    posted = await request.post()
    form: dict[str, object] = {
        "name": str(posted.get("name", "")).strip(),
        "year_group": str(posted.get("year_group", "10")),
        "deadline": str(posted.get("deadline", "")),
        "weeks": str(posted.get("weeks", "")).strip(),
        "school_ids": [str(v) for v in posted.getall("school_id", [])],
        "clearing_default": posted.get("clearing_default") == "yes",
    }
    weeks = str(form["weeks"]).replace(",", " ").split()
    school_ids = [s for s in form["school_ids"] if s in principal.school_ids]  # type: ignore[attr-defined]
    try:
        day = datetime.strptime(str(form["deadline"]), "%Y-%m-%d").date()
        body = RoundRequest.model_validate(
            {
                "name": form["name"],
                "year_group": int(str(form["year_group"])),
                "deadline": datetime.combine(day, DEADLINE_TIME, LONDON).isoformat(),
                "schools": [{"school_id": s, "weeks": weeks} for s in school_ids],
                "clearing_default": form["clearing_default"],
            }
        )
    except (ValueError, ValidationError) as exc:
        return await _render_rounds(
            request, principal, form=form, error=_round_problem(exc), status=400
        )
    assert principal.ebp_id is not None
    try:
        async with placements_context(request).unit_of_work() as uow:
            record = await open_round(
                OpenRound(
                    ebp_id=principal.ebp_id,
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
    except PlacementsError as exc:
        return await _render_rounds(
            request, principal, form=form, error=exc.message, status=refusal_status(exc)
        )
    raise web.HTTPSeeOther(f"/placements/ebp/rounds/{record.id}?notice=opened")


def _round_problem(exc: Exception) -> str:
    if not isinstance(exc, ValidationError):
        return "Give the deadline as a date."
    where = {str(part) for e in exc.errors() for part in e["loc"]}
    if "name" in where:
        return "Give the round a name."
    if "weeks" in where:
        return "Give the placement weeks as ISO weeks, such as 2027-W25 2027-W26 (up to six)."
    if "schools" in where:
        return "Choose at least one school."
    if "deadline" in where:
        return "Give the deadline as a date."
    return "Check the year group: 7 to 13."


@routes.get("/placements/ebp/rounds/{round_id}")
async def round_page(request: web.Request) -> web.Response:
    principal = ebp_staff(request)
    notice = NOTICES.get(request.query.get("notice", ""))
    return await render_round(request, principal, notice=notice)


async def render_round(
    request: web.Request,
    principal: Principal,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    async with managed_round(request, principal) as (reads, access):
        round_ = access.round
        schools = await all_schools(reads, round_.school_weeks)
        found = await runs.list_runs(reads, round_)
        pins = await pin_cases.list_pins(reads, round_)
        stated = await preference_count(reads, round_.id)
        live = (
            await publication.live_allocations(reads, round_, None)
            if round_.published_at is not None
            else []
        )
        names = await placement_names(
            reads, [p.placement_id for p in pins] + [a["placement_id"] for a in live]
        )
    label = {
        sid: who(sid, round_.year_group, schools.get(school, ""))
        for sid, school in [(a["student_id"], a["school_id"]) for a in live]
    }
    return page(
        request,
        "ebp_round.html",
        {
            "nav": EBP_NAV,
            "round": round_,
            "schools": schools,
            "runs": list(reversed(found)),
            "completed": [r for r in found if r.status == runs.COMPLETED],
            "pins": pins,
            "stated": stated,
            "live": live,
            "label": label,
            "names": names,
            "ref": student_reference,
            "allocated_placements": {a["placement_id"] for a in live},
            "notice": notice,
            "error": error,
        },
        status=status,
    )


@routes.post("/placements/ebp/rounds/{round_id}/pins/{student_id}/delete")
async def unpin(request: web.Request) -> web.StreamResponse:
    principal = ebp_staff(request)
    try:
        async with changing_round(request, principal) as (uow, access):
            cmd = pin_cases.UnpinStudent(access.round, request.match_info["student_id"])
            await pin_cases.unpin_student(cmd, uow)
    except PlacementsError as exc:
        return await render_round(request, principal, error=exc.message, status=refusal_status(exc))
    raise web.HTTPSeeOther(
        f"/placements/ebp/rounds/{request.match_info['round_id']}?notice=unpinned"
    )


@routes.post("/placements/ebp/rounds/{round_id}/withdrawals")
async def withdraw(request: web.Request) -> web.StreamResponse:
    principal = ebp_staff(request)
    posted = await request.post()
    student_id = str(posted.get("student_id", "")) or None
    placement_id = str(posted.get("placement_id", "")) or None
    if (student_id is None) == (placement_id is None):
        return await render_round(
            request,
            principal,
            error="Choose the student or the placement that withdrew.",
            status=400,
        )
    if posted.get("confirmed") != "yes":  # a withdrawal cannot be undone: ask first
        return await _confirm_withdrawal(request, principal, student_id, placement_id)
    try:
        async with changing_round(request, principal) as (uow, access):
            cmd = publication.Withdraw(
                access.round,
                recorded_by=principal.user_id,
                student_id=student_id,
                placement_id=placement_id,
            )
            await publication.withdraw(cmd, uow, clock(request))
    except PlacementsError as exc:
        return await render_round(request, principal, error=exc.message, status=refusal_status(exc))
    raise web.HTTPSeeOther(
        f"/placements/ebp/rounds/{request.match_info['round_id']}?notice=withdrawn"
    )


async def _confirm_withdrawal(
    request: web.Request, principal: Principal, student_id: str | None, placement_id: str | None
) -> web.Response:
    """What the withdrawal would release, with the form that records it; or, where the
    withdrawal would be refused, the refusal at once (`publication.withdrawal_basis`, which
    the withdrawal itself checks again)."""
    refusal: PlacementsError | None = None
    affected: list[dict[str, Any]] = []
    async with managed_round(request, principal) as (reads, access):
        round_ = access.round
        try:
            await publication.withdrawal_basis(reads, round_, student_id, placement_id)
        except PlacementsError as exc:  # shown on the round's page, not as a bare error
            refusal = exc
        else:
            affected = [
                a
                for a in await publication.live_allocations(reads, round_, None)
                if a["student_id"] == student_id
                or (placement_id and a["placement_id"] == placement_id)
            ]
        names = await placement_names(reads, [a["placement_id"] for a in affected])
        schools = await all_schools(reads, round_.school_weeks)
    if refusal is not None:
        return await render_round(
            request, principal, error=refusal.message, status=refusal_status(refusal)
        )
    return page(
        request,
        "ebp_withdrawal.html",
        {
            "nav": EBP_NAV,
            "round": round_,
            "student_id": student_id,
            "placement_id": placement_id,
            "affected": [
                {
                    "who": who(a["student_id"], round_.year_group, schools.get(a["school_id"], "")),
                    "placement": names.get(a["placement_id"], ("A placement", "")),
                    "week": a["week"],
                }
                for a in affected
            ],
        },
    )


@routes.post("/placements/ebp/rounds/{round_id}/clearing")
async def clear(request: web.Request) -> web.StreamResponse:
    principal = ebp_staff(request)
    try:
        async with changing_round(request, principal) as (uow, access):
            cmd = clearing.ClearPublished(access.round)
            await clearing.clear_published(cmd, uow, clock(request))
    except PlacementsError as exc:
        return await render_round(request, principal, error=exc.message, status=refusal_status(exc))
    raise web.HTTPSeeOther(
        f"/placements/ebp/rounds/{request.match_info['round_id']}?notice=cleared"
    )
