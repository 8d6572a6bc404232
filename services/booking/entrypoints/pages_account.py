"""Every signed-in person's own account page: change the password.

The change needs the current password; the person stays signed in here and every other
session of theirs ends (announced to every service).
"""

from __future__ import annotations

from aiohttp import web

from services.booking.application.identity import (
    TooManyAttempts,
    UnacceptablePassword,
    WrongPassword,
)
from services.booking.domain.passwords import MIN_LENGTH
from services.booking.entrypoints.context import booking
from services.booking.entrypoints.pages import signed_in
from shared.auth.principal import Role
from shared.http.pages import render
from shared.http.site import site

routes = web.RouteTableDef()


def _page(
    request: web.Request, *, error: str | None = None, notice: str | None = None, status: int = 200
) -> web.Response:
    principal = signed_in(request, *Role)
    return render(
        request,
        "account_password.html",
        {
            "min_length": MIN_LENGTH,
            "home": site(request).home(principal.role),
            "error": error,
            "notice": notice,
        },
        status=status,
    )


@routes.get("/account/password")
async def password_page(request: web.Request) -> web.Response:
    return _page(request)


@routes.post("/account/password")
async def change_password(request: web.Request) -> web.Response:
    principal = signed_in(request, *Role)
    form = await request.post()
    current = str(form.get("current_password", ""))
    new = str(form.get("new_password", ""))
    repeated = str(form.get("repeat_password", ""))
    if not current or not new:
        return _page(request, error="Enter your current password and a new one.", status=400)
    if new != repeated:
        return _page(request, error="The new password and its repeat differ.", status=400)
    try:
        ended = await booking(request).identity.change_password(principal, current, new)
    except TooManyAttempts as exc:
        seconds = int(exc.retry_after.total_seconds()) + 1
        return _page(
            request, error=f"Too many wrong passwords. Wait {seconds} seconds.", status=429
        )
    except WrongPassword:
        return _page(request, error="Your current password is wrong.", status=403)
    except UnacceptablePassword as exc:
        return _page(request, error=str(exc), status=400)
    others = (
        "No other session was open."
        if not ended
        else (f"Your {ended} other {'session was' if ended == 1 else 'sessions were'} signed out.")
    )
    return _page(request, notice=f"Your password is changed. {others}")
