"""The admin's pages: the directory at a glance, and who is signed in, with "sign out
everywhere", disable and enable for each account.

Lists never name a student: a student's session shows their role, school and year group.
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from services.booking.application.admin import directory, disabled_now, signed_in_now
from services.booking.application.identity import OwnAccount, UnknownAccount
from services.booking.entrypoints.context import booking
from services.booking.entrypoints.pages import ROLE_NAMES, signed_in
from shared.auth.principal import Role
from shared.http.pages import LONDON, render

routes = web.RouteTableDef()

ADMIN_NAV = (("/admin", "Directory"), ("/admin/sessions", "Who is signed in"))


def when(moment: datetime | None) -> str:
    if moment is None:
        return "not yet"
    return moment.astimezone(LONDON).strftime("%a %d %b %Y, %H:%M")


@routes.get("/admin")
async def admin_home(request: web.Request) -> web.Response:
    signed_in(request, Role.ADMIN)
    ctx = booking(request)
    async with ctx.admin_reads() as reads:
        found = await directory(reads, ctx.clock().astimezone(LONDON).date())
    return render(request, "admin_home.html", {"nav": ADMIN_NAV, "directory": found})


async def _sessions_page(
    request: web.Request, *, notice: str | None = None, error: str | None = None, status: int = 200
) -> web.Response:
    principal = signed_in(request, Role.ADMIN)
    ctx = booking(request)
    async with ctx.admin_reads() as reads:
        open_now = await signed_in_now(reads, ctx.clock())
        disabled = await disabled_now(reads)
    return render(
        request,
        "admin_sessions.html",
        {
            "nav": ADMIN_NAV,
            "sessions": open_now,
            "disabled": disabled,
            "roles": ROLE_NAMES,
            "when": when,
            "me": principal.user_id,
            "notice": notice,
            "error": error,
        },
        status=status,
    )


@routes.get("/admin/sessions")
async def sessions_page(request: web.Request) -> web.Response:
    return await _sessions_page(request)


@routes.post("/admin/accounts/{account_id}/{action:sign-out|disable|enable}")
async def account_action(request: web.Request) -> web.Response:
    principal = signed_in(request, Role.ADMIN)
    identity = booking(request).identity
    account_id = request.match_info["account_id"]
    action = request.match_info["action"]
    try:
        if action == "sign-out":
            ended = await identity.sign_out_everywhere(account_id)
            notice = f"Signed out everywhere: {_sessions(ended)} ended."
        else:
            status = await identity.set_active(principal, account_id, action == "enable")
            notice = (
                "The account is enabled again: it may sign in."
                if status.active
                else f"The account is disabled: {_sessions(status.sessions_ended)} ended, "
                "and it cannot sign in until enabled."
            )
    except UnknownAccount:
        return await _sessions_page(request, error="There is no such account.", status=404)
    except OwnAccount:
        return await _sessions_page(
            request, error="You cannot disable the account you are signed in with.", status=409
        )
    return await _sessions_page(request, notice=notice)


def _sessions(n: int) -> str:
    return f"{n} session" if n == 1 else f"{n} sessions"
