"""Pages for a Personal Adviser: my day and week across schools, attendance, the drop-in
queue, and my calendar feed and imported calendar.

Lists name students by initials and year group; an appointment's full record (name and any
referral reason) is one click away for the staff `access` lets see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from aiohttp import web
from yarl import URL

from services.booking.application import dropins
from services.booking.application.calendar_import import register_import, show_import
from services.booking.application.calendars import rotate_feed, show_feed
from services.booking.application.lifecycle import RecordAttendance, record_attendance
from services.booking.application.ports import DropInSession, StudentLabel
from services.booking.domain.appointments import Appointment
from services.booking.domain.dropin_queue import QueueStatus
from services.booking.domain.errors import BookingError
from services.booking.domain.model import AppointmentStatus
from services.booking.entrypoints.access import (
    STAFF_WHO_BOOK,
    can_see_appointment,
    can_see_school,
    sees_sensitive,
)
from services.booking.entrypoints.calendars_api import ImportRequest
from services.booking.entrypoints.context import BookingContext, booking
from services.booking.entrypoints.pages import Period, period_of, signed_in
from shared.auth.principal import Principal, Role
from shared.http.pages import LONDON, render

routes = web.RouteTableDef()

SESSION_NAMES = {
    "interview": "Careers interview",
    "dropin": "Drop-in",
    "group": "Group session",
    "wex_debrief": "Work-experience debrief",
    "options_evening": "Options evening",
}
PA_NAV = [("/pa", "My day and week"), ("/pa/calendar", "My calendars")]
STATUS_NAMES = {
    AppointmentStatus.CONFIRMED: "Booked",
    AppointmentStatus.CANCELLED: "Cancelled",
    AppointmentStatus.ATTENDED: "Attended",
    AppointmentStatus.NO_SHOW: "Did not come",
}


@dataclass(frozen=True)
class Listed:
    """One appointment as a staff list shows it."""

    appointment: Appointment
    student: StudentLabel | None
    school_name: str
    can_mark: bool


async def listed(
    ctx: BookingContext, found: list[Appointment], school_names: dict[str, str]
) -> list[Listed]:
    now = ctx.clock()
    async with ctx.reads() as reads:
        labels = await reads.students.labels([a.student_id for a in found])
    return [
        Listed(
            a,
            labels.get(a.student_id),
            school_names.get(a.school_id, ""),
            a.status is AppointmentStatus.CONFIRMED and a.interval.start <= now,
        )
        for a in found
    ]


async def _school_names(ctx: BookingContext, school_ids: frozenset[str]) -> dict[str, str]:
    names = {}
    async with ctx.reads() as reads:
        for school_id in sorted(school_ids):
            school = await reads.schools.get(school_id)
            if school is not None:
                names[school_id] = school.name
    return names


async def _my_dropins(
    ctx: BookingContext, principal: Principal, days: list[date]
) -> list[DropInSession]:
    """The adviser's drop-in sessions on `days` at any of their schools, stored so that
    their queues can be run."""
    found = [
        session
        for day in days
        for school_id in sorted(principal.school_ids)
        for session in await dropins.sessions_on(ctx.reads, school_id, day, ctx.unit_of_work())
        if session.adviser_id == principal.user_id
    ]
    return sorted(found, key=lambda session: session.starts_at)


@routes.get("/pa")
async def pa_home(request: web.Request) -> web.Response:
    principal = signed_in(request, Role.ADVISER)
    return await _render_pa(request, principal, period_of(request.query, booking(request).clock()))


async def _render_pa(
    request: web.Request,
    principal: Principal,
    period: Period,
    *,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    ctx = booking(request)
    names = await _school_names(ctx, principal.school_ids)
    async with ctx.reads() as reads:
        found = await reads.appointments.of_adviser(principal.user_id, period.start, period.end)
    rows = await listed(ctx, found, names)
    sessions = await _my_dropins(ctx, principal, period.dates)
    by_day = {
        day: (
            [r for r in rows if r.appointment.interval.start.astimezone(LONDON).date() == day],
            [s for s in sessions if s.starts_at.astimezone(LONDON).date() == day],
        )
        for day in period.dates
    }
    return render(
        request,
        "pa_home.html",
        {
            "nav": PA_NAV,
            "period": period,
            "by_day": by_day,
            "names": names,
            "sessions_names": SESSION_NAMES,
            "statuses": STATUS_NAMES,
            "back": f"/pa{period.link(0)}",
            "error": error,
        },
        status=status,
    )


@routes.get("/appointments/{appointment_id}")
async def appointment_record(request: web.Request) -> web.Response:
    principal = signed_in(request, *STAFF_WHO_BOOK)
    ctx = booking(request)
    async with ctx.reads() as reads:
        found = await reads.appointments.get(request.match_info["appointment_id"])
        if found is None or not can_see_appointment(principal, found):
            raise web.HTTPNotFound()
        labels = await reads.students.labels([found.student_id])
        school = await reads.schools.get(found.school_id)
    return render(
        request,
        "appointment.html",
        {
            "a": found,
            "student": labels.get(found.student_id),
            "school_name": school.name if school else "",
            "sessions_names": SESSION_NAMES,
            "statuses": STATUS_NAMES,
            "referral": found.referral if sees_sensitive(principal) else None,
        },
    )


def _back(value: object, fallback: str) -> str:
    """Only a path on this site: never somewhere else a forged form names."""
    text = str(value or "")
    return text if text.startswith("/") and not text.startswith("//") else fallback


@routes.post("/appointments/{appointment_id}/attendance")
async def mark_attendance(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Role.ADVISER)
    ctx = booking(request)
    form = await request.post()
    async with ctx.reads() as reads:
        found = await reads.appointments.get(request.match_info["appointment_id"])
    if found is None or not can_see_appointment(principal, found):
        raise web.HTTPNotFound()
    cmd = RecordAttendance(found.id, form.get("attended") == "yes")
    back = _back(form.get("back"), "/pa")
    try:
        await record_attendance(cmd, ctx.unit_of_work(), ctx.clock())
    except BookingError as exc:
        period = period_of(URL(back).query, ctx.clock())
        return await _render_pa(request, principal, period, error=exc.message, status=409)
    raise web.HTTPSeeOther(back)


async def _session(ctx: BookingContext, principal: Principal, session_id: str) -> DropInSession:
    async with ctx.reads() as reads:
        try:
            session = await dropins.get_session(reads.dropins, session_id)
        except dropins.UnknownDropIn:
            raise web.HTTPNotFound() from None
    if session.adviser_id != principal.user_id or not can_see_school(principal, session.school_id):
        raise web.HTTPNotFound()
    return session


@routes.get("/pa/dropins/{session_id}")
async def queue_page(request: web.Request) -> web.Response:
    principal = signed_in(request, Role.ADVISER)
    return await _render_queue(request, principal, notice=request.query.get("notice"))


async def _render_queue(
    request: web.Request,
    principal: Principal,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    ctx = booking(request)
    session = await _session(ctx, principal, request.match_info["session_id"])
    async with ctx.reads() as reads:
        _, queue = await dropins.queue_view(reads.dropins, session.id)
        open_entries = [e for e in queue.entries if e.is_open]
        labels = await reads.students.labels([e.student_id for e in open_entries])
    names = await _school_names(ctx, frozenset({session.school_id}))
    return render(
        request,
        "pa_queue.html",
        {
            "nav": PA_NAV,
            "session": session,
            "school_name": names.get(session.school_id, ""),
            "called": [e for e in open_entries if e.status is QueueStatus.CALLED],
            "waiting": [e for e in open_entries if e.status is QueueStatus.WAITING],
            "labels": labels,
            "notice": notice,
            "error": error,
        },
        status=status,
    )


@routes.post("/pa/dropins/{session_id}/next")
async def call_next(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Role.ADVISER)
    ctx = booking(request)
    session = await _session(ctx, principal, request.match_info["session_id"])
    try:
        called = await dropins.call_next(
            dropins.CallNext(session.id, principal.user_id), ctx.unit_of_work(), ctx.clock()
        )
    except BookingError as exc:
        return await _render_queue(request, principal, error=exc.message, status=409)
    if called is None:
        return await _render_queue(request, principal, notice="Nobody is waiting.")
    raise web.HTTPSeeOther(f"/pa/dropins/{session.id}")


@routes.post(r"/pa/dropins/{session_id}/{student_id}/{outcome:seen|skip}")
async def finish_turn(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Role.ADVISER)
    ctx = booking(request)
    session = await _session(ctx, principal, request.match_info["session_id"])
    cmd = dropins.FinishTurn(
        session.id, request.match_info["student_id"], request.match_info["outcome"] == "seen"
    )
    try:
        await dropins.finish(cmd, ctx.unit_of_work(), ctx.clock())
    except (BookingError, KeyError):
        return await _render_queue(
            request, principal, error="That student is no longer being seen.", status=409
        )
    raise web.HTTPSeeOther(f"/pa/dropins/{session.id}")


@routes.get("/pa/calendar")
async def calendar_page(request: web.Request) -> web.Response:
    principal = signed_in(request, Role.ADVISER)
    return await _render_calendar(request, principal, notice=request.query.get("notice"))


CALENDAR_NOTICES = {
    "rotated": "You have a new feed link. The old one has stopped working: "
    "give the new one to your calendar app.",
    "imported": "Your calendar is registered. Signpost reads it every few minutes "
    "and keeps those times free.",
}


async def _render_calendar(
    request: web.Request,
    principal: Principal,
    *,
    notice: str | None = None,
    error: str | None = None,
    url: str = "",
    status: int = 200,
) -> web.Response:
    ctx = booking(request)
    feed = await show_feed(ctx.unit_of_work(), ctx.feed_tokens, principal.user_id)
    imported = await show_import(ctx.unit_of_work(), principal.user_id)
    return render(
        request,
        "pa_calendar.html",
        {
            "nav": PA_NAV,
            "feed": feed,
            "feed_url": f"{request.url.origin()}/feeds/{feed.token}.ics" if feed else "",
            "imported": imported,
            "url": url,
            "notice": CALENDAR_NOTICES.get(notice or ""),
            "error": error,
        },
        status=status,
    )


@routes.post("/pa/calendar/feed")
async def new_feed(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Role.ADVISER)
    ctx = booking(request)
    await rotate_feed(ctx.unit_of_work(), ctx.feed_tokens, principal.user_id, ctx.clock())
    raise web.HTTPSeeOther("/pa/calendar?notice=rotated")


@routes.post("/pa/calendar/import")
async def import_calendar(request: web.Request) -> web.StreamResponse:
    principal = signed_in(request, Role.ADVISER)
    ctx = booking(request)
    url = str((await request.post()).get("url", "")).strip()
    try:
        body = ImportRequest(url=url)
    except ValueError:
        return await _render_calendar(
            request,
            principal,
            error="Enter your calendar's ICS link: it starts with https://",
            url=url,
            status=400,
        )
    await register_import(ctx.unit_of_work(), principal.user_id, body.url, ctx.clock())
    raise web.HTTPSeeOther("/pa/calendar?notice=imported")
