"""Pages every role shares: sign in, sign out, and each role's own home.

Each role's pages live in their own module (`pages_student`, `pages_pa`,
`pages_coordinator`) over the same application functions as the JSON API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from aiohttp import web

from services.booking.application.identity import (
    AccountDisabled,
    InvalidCredentials,
    TooManyAttempts,
)
from services.booking.entrypoints.access import DEVICE_COOKIE, remember_device
from services.booking.entrypoints.api import DISABLED_MESSAGE
from services.booking.entrypoints.context import booking
from shared.auth.principal import Principal, Role
from shared.auth.web import clear_session_cookie, current_principal, set_session_cookie
from shared.http.pages import LONDON, render
from shared.http.site import page_principal, site

routes = web.RouteTableDef()

ROLE_NAMES = {
    Role.STUDENT: "Student",
    Role.ADVISER: "Personal Adviser",
    Role.COORDINATOR: "Careers coordinator",
    Role.EBP: "Education Business Partnership",
    Role.ADMIN: "Administrator",
}


def signed_in(request: web.Request, *roles: Role) -> Principal:
    """The signed-in person if their role may use this page; otherwise off to sign in, or
    to their own home (which may be another service's page)."""
    return page_principal(request, *roles)


@dataclass(frozen=True)
class Period:
    """A day or a Monday-to-Sunday week of local (Europe/London) dates, for staff pages."""

    view: str
    first: date
    days: int

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), LONDON)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.first + timedelta(days=self.days), time(0), LONDON)

    @property
    def dates(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]

    def link(self, step: int) -> str:
        moved = self.first + timedelta(days=step * self.days)
        return f"?view={self.view}&day={moved.isoformat()}"


def period_of(query: Mapping[str, str], now: datetime) -> Period:
    """`?view=day|week&day=YYYY-MM-DD`; today (in London) when absent or not a date."""
    try:
        day = date.fromisoformat(query.get("day", ""))
    except ValueError:
        day = now.astimezone(LONDON).date()
    if query.get("view") == "week":
        return Period("week", day - timedelta(days=day.weekday()), 7)
    return Period("day", day, 1)


@routes.get("/")
async def home(request: web.Request) -> web.StreamResponse:
    principal = current_principal(request)
    raise web.HTTPSeeOther(site(request).home(principal.role) if principal else "/sign-in")


@routes.get("/sign-in")
async def sign_in_page(request: web.Request) -> web.Response:
    return render(request, "sign_in.html", {"email": "", "error": None})


@routes.post("/sign-in")
async def sign_in(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    email = str(form.get("email", "")).strip()
    password = str(form.get("password", ""))
    ctx = booking(request)
    error = None
    if not email or not password:
        error = "Enter your email address and password."
    else:
        try:
            signed = await ctx.identity.sign_in(
                email, password, client=request.remote, device=request.cookies.get(DEVICE_COOKIE)
            )
        except TooManyAttempts as exc:
            seconds = int(exc.retry_after.total_seconds()) + 1
            error = f"Too many failed sign-ins from here. Wait {seconds} seconds, then try again."
        except InvalidCredentials:
            error = "The email address or password is wrong."
        except AccountDisabled:
            error = DISABLED_MESSAGE
        else:
            response = web.HTTPSeeOther(site(request).home(signed.role))
            set_session_cookie(
                response, signed.token, max_age=signed.expires_in, secure=ctx.settings.cookie_secure
            )
            remember_device(
                response, signed.device_token, path="/sign-in", secure=ctx.settings.cookie_secure
            )
            raise response
    return render(request, "sign_in.html", {"email": email, "error": error}, status=400)


@routes.get("/sign-out")
async def sign_out_page(request: web.Request) -> web.StreamResponse:
    """Where other services' "Sign out" links lead: a form here ends the session everywhere
    (their own forms may not post to booking's origin)."""
    if current_principal(request) is None:
        raise web.HTTPSeeOther("/sign-in")
    return render(request, "sign_out.html")


@routes.post("/sign-out")
async def sign_out(request: web.Request) -> web.StreamResponse:
    principal = current_principal(request)
    if principal is not None and principal.session_id:
        await booking(request).identity.sign_out(principal.session_id)
    response = web.HTTPSeeOther("/sign-in")
    clear_session_cookie(response)
    raise response
