"""Pages for a school's careers coordinator: the school's appointments by day and week,
and the no-shows to chase.

Lists name students by initials and year group; the full record is one click away.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from services.booking.domain.model import AppointmentStatus
from services.booking.entrypoints.context import booking
from services.booking.entrypoints.pages import period_of, signed_in
from services.booking.entrypoints.pages_pa import SESSION_NAMES, STATUS_NAMES, listed
from shared.auth.principal import Principal, Role
from shared.http.pages import LONDON, render

routes = web.RouteTableDef()

COORDINATOR_NAV = [("/coordinator", "Appointments")]
CHASE_DAYS = 28


def _school_id(principal: Principal) -> str:
    """A coordinator acts for one school."""
    return next(iter(sorted(principal.school_ids)), "")


@routes.get("/coordinator")
async def coordinator_home(request: web.Request) -> web.Response:
    principal = signed_in(request, Role.COORDINATOR)
    ctx = booking(request)
    now = ctx.clock()
    period = period_of(request, now)
    school_id = _school_id(principal)
    async with ctx.reads() as reads:
        school = await reads.schools.get(school_id)
        found = await reads.appointments.at_school(school_id, period.start, period.end)
        recent = await reads.appointments.at_school(
            school_id, now - timedelta(days=CHASE_DAYS), now
        )
    names = {school_id: school.name if school else ""}
    rows = await listed(ctx, sorted(found, key=lambda a: a.interval.start), names)
    chase = await listed(
        ctx,
        sorted(
            (a for a in recent if a.status is AppointmentStatus.NO_SHOW),
            key=lambda a: a.interval.start,
            reverse=True,
        ),
        names,
    )
    by_day = {
        day: [r for r in rows if r.appointment.interval.start.astimezone(LONDON).date() == day]
        for day in period.dates
    }
    return render(
        request,
        "coordinator_home.html",
        {
            "nav": COORDINATOR_NAV,
            "school_name": names[school_id],
            "period": period,
            "by_day": by_day,
            "chase": chase,
            "chase_days": CHASE_DAYS,
            "sessions_names": SESSION_NAMES,
            "statuses": STATUS_NAMES,
        },
    )
