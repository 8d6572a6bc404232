"""A student's work-experience page, on a phone: up to four ranked choices for the open
round (scarce options flagged with how many students want each place), the clearing tick,
and their placement once it is published."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from services.placements.application import preferences as preference_cases
from services.placements.application import publication
from services.placements.application.errors import NotFound, PlacementsError
from services.placements.application.overview import placement_names
from services.placements.application.ports import PageRepositories, RoundRecord
from services.placements.application.rounds import visible_rounds
from services.placements.domain.model import MAX_PREFERENCES, Preference
from services.placements.entrypoints.access import changing_round
from services.placements.entrypoints.context import clock, placements_context
from services.placements.entrypoints.pages_common import page, refusal_status
from services.placements.entrypoints.preferences_api import PreferencesRequest
from shared.auth.principal import Principal, Role
from shared.http.pages import LONDON
from shared.http.site import page_principal

routes = web.RouteTableDef()

ORDINALS = ("First", "Second", "Third", "Fourth")
DEFAULT_TRAVEL_KM = 10.0
NOTICES = {"saved": "Your choices are saved. You can change them until the deadline."}


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    scarce: bool


@dataclass(frozen=True)
class Placed:
    round_name: str
    title: str
    employer: str
    week: str
    confirmed: bool


def _student(request: web.Request) -> Principal:
    return page_principal(request, Role.STUDENT)


async def _my_rounds(
    reads: PageRepositories, principal: Principal
) -> list[tuple[RoundRecord, str]]:
    """The rounds this student takes part in, newest first, with the student's school."""
    mine = []
    for access in await visible_rounds(reads, principal):
        try:
            school_id = await preference_cases.student_school(
                reads, access.round, principal.user_id
            )
        except NotFound:
            continue
        mine.append((access.round, school_id))
    return sorted(mine, key=lambda pair: pair[0].created_at, reverse=True)


def _choice_value(choice: Preference) -> str:
    return f"placement:{choice.placement_id}" if choice.placement_id else f"sector:{choice.sector}"


def _demand(places: int, ratio: float | None, scarce: bool) -> str:
    if not scarce:
        return ""
    if not places or ratio is None:
        return " (in demand: no places left)"
    return f" (in demand: {ratio:g} students for each place)"


@routes.get("/placements/my")
async def my_page(request: web.Request) -> web.Response:
    principal = _student(request)
    return await _render_my(request, principal, notice=NOTICES.get(request.query.get("notice", "")))


async def _render_my(
    request: web.Request,
    principal: Principal,
    *,
    chosen: list[str] | None = None,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> web.Response:
    ctx = placements_context(request)
    now = ctx.clock()
    placed: list[Placed] = []
    open_round: RoundRecord | None = None
    options: list[Option] = []
    stated: Any = None
    closed: list[RoundRecord] = []
    async with ctx.reads() as reads:
        for round_, school_id in await _my_rounds(reads, principal):
            if round_.published_at is not None:
                for a in await publication.live_allocations(reads, round_, None, principal.user_id):
                    title, employer = (await placement_names(reads, [a["placement_id"]])).get(
                        a["placement_id"], ("Your placement", "")
                    )
                    placed.append(
                        Placed(round_.name, title, employer, a["week"], a["status"] == "confirmed")
                    )
            elif now > round_.deadline:
                closed.append(round_)
            elif open_round is None:
                open_round = round_
                sectors, found = await preference_cases.round_options(
                    reads, round_, school_id, now.date()
                )
                options = [
                    Option(
                        f"sector:{d.key}",
                        f"Any {d.key.replace('_', ' ')} placement"
                        + _demand(d.places, d.ratio, d.scarce),
                        d.scarce,
                    )
                    for d in sectors
                ] + [
                    Option(
                        f"placement:{o.placement_id}",
                        f"{o.title}, {o.employer_name}"
                        + (f" ({o.postcode_district})" if o.postcode_district else "")
                        + _demand(o.demand.places, o.demand.ratio, o.demand.scarce),
                        o.demand.scarce,
                    )
                    for o in found
                ]
                stated = await preference_cases.stated_preferences(
                    reads, round_, principal.user_id, school_id
                )
    if chosen is None:
        chosen = [_choice_value(c) for c in stated.choices] if stated else []
    clearing = (
        stated.clearing
        if stated is not None and stated.clearing is not None
        else bool(open_round and open_round.clearing_default)
    )
    return page(
        request,
        "student_my.html",
        {
            "placed": placed,
            "closed": closed,
            "round": open_round,
            "options": options,
            "scarce": [o for o in options if o.scarce],
            "chosen": (chosen + [""] * MAX_PREFERENCES)[:MAX_PREFERENCES],
            "ordinals": ORDINALS,
            "travel": stated.travel_limit_km if stated else DEFAULT_TRAVEL_KM,
            "clearing": clearing,
            "stated": stated,
            "error": error,
            "notice": notice,
            "zone": LONDON,
        },
        status=status,
    )


def _choice(value: str) -> dict[str, str]:
    kind, _, key = value.partition(":")
    return {"placement_id": key} if kind == "placement" else {"sector": key}


@routes.post("/placements/my/rounds/{round_id}/preferences")
async def save_preferences(request: web.Request) -> web.StreamResponse:
    principal = _student(request)
    posted = await request.post()
    chosen = [str(posted.get(f"choice{n}", "")) for n in range(1, MAX_PREFERENCES + 1)]
    picked = [c for c in chosen if c]
    try:
        body = PreferencesRequest.model_validate(
            {
                "choices": [_choice(c) for c in picked],
                "travel_limit_km": float(str(posted.get("travel_limit_km", DEFAULT_TRAVEL_KM))),
                "clearing": posted.get("clearing") == "yes",
            }
        )
    except (ValueError, ValidationError) as exc:
        message = "Choose at least one option."
        if picked and isinstance(exc, ValidationError):
            fields = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
            if "travel_limit_km" in fields:
                message = "Say how far you can travel, in kilometres (up to 80)."
        elif picked:
            message = "Say how far you can travel, in kilometres (up to 80)."
        return await _render_my(request, principal, chosen=chosen, error=message, status=400)
    try:
        async with changing_round(request, principal, manager=False) as (uow, access):
            access.require_student_record(principal.user_id, None)
            school_id = await preference_cases.student_school(uow, access.round, principal.user_id)
            stated_before = await preference_cases.stated_preferences(
                uow, access.round, principal.user_id, school_id
            )
            cmd = preference_cases.SubmitPreferences(
                round_=access.round,
                student_id=principal.user_id,
                choices=[
                    Preference(placement_id=c.placement_id, sector=c.sector) for c in body.choices
                ],
                travel_limit_km=body.travel_limit_km,
                access_needs=stated_before.access_needs if stated_before else [],
                clearing=body.clearing,
            )
            await preference_cases.submit_preferences(cmd, uow, clock(request))
    except PlacementsError as exc:
        message = exc.message
        if "already one of your choices" in message:
            message = "You chose the same option twice. Choose each option once."
        return await _render_my(
            request, principal, chosen=chosen, error=message, status=refusal_status(exc)
        )
    raise web.HTTPSeeOther("/placements/my?notice=saved")
