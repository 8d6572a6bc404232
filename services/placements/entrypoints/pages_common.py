"""What placements' pages share: who may use the EBP's pages, their navigation, and how
lists name a student."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from services.placements.application.access import RoundAccess
from services.placements.application.errors import NotFound, PlacementsError
from services.placements.application.overview import student_reference
from services.placements.application.ports import PageRepositories
from services.placements.entrypoints.access import reading_round
from services.placements.entrypoints.errors import translate_placements_error
from shared.auth.principal import Principal, Role
from shared.http.pages import render
from shared.http.site import page_principal, site

EBP_NAV = [
    ("/placements/ebp", "Employers and placements"),
    ("/placements/ebp/employers/import", "Import employers"),
    ("/placements/ebp/rounds", "Allocation rounds"),
]
REASONS = {
    "no_matching_placement": "No placement matches their choices",
    "too_young": "Too young for the placements they chose",
    "inaccessible": "The placements they chose do not meet their access needs",
    "out_of_travel_range": "The placements they chose are too far away",
    "week_clash": "The placements they chose do not run in their school's weeks",
    "vetting_expired": "The placements they chose are not vetted for the week",
    "capacity_exhausted": "Their choices were full",
}


routes = web.RouteTableDef()


def page(
    request: web.Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    """`render`, with the account links every page carries: booking owns accounts, so
    "Sign out" opens booking's sign-out page (a form here may not post to another origin),
    which ends the session for every service."""
    links = {
        "sign_out_url": site(request).url("booking", "/sign-out"),
        "password_url": site(request).url("booking", "/account/password"),
    }
    return render(request, template, {**links, **(context or {})}, status=status)


def refusal_status(exc: PlacementsError) -> int:
    """The status the JSON API answers this refusal with, for the page that shows it."""
    problem = translate_placements_error(exc)
    return problem.status if problem is not None else 400


def ebp_staff(request: web.Request) -> Principal:
    """EBP staff of a partnership; anyone else goes to their own home (or to sign in)."""
    principal = page_principal(request, Role.EBP)
    if principal.ebp_id is None:
        raise web.HTTPForbidden(text="Your account is not linked to a partnership.")
    return principal


def who(student_id: str, year_group: int, school: str) -> str:
    """How staff lists name a student: a short reference, year group and school; never a name."""
    return f"{student_reference(student_id)}, Year {year_group}, {school}"


@asynccontextmanager
async def managed_round(
    request: web.Request, principal: Principal
) -> AsyncIterator[tuple[PageRepositories, RoundAccess]]:
    """A read of the path's round, which the caller's partnership runs; else 404."""
    try:
        async with reading_round(request, principal, manager=True) as (reads, access):
            yield reads, access
    except NotFound as exc:
        raise web.HTTPNotFound(text=exc.message) from exc
