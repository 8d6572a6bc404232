"""Pages for students on a phone: see my appointments, book one, cancel one (moving one,
waitlists and the drop-in queue are in `pages_student_extras`).

Plain HTML forms over the same application functions as the JSON API, so the rules (who may
book what, notice, cut-offs, no double booking) are the same whichever way a student comes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy
from pydantic import BaseModel, ValidationError

from services.booking.application.availability import find_slots
from services.booking.application.booking import BookSlot, book_slot
from services.booking.application.lifecycle import CancelAppointment, cancel_appointment
from services.booking.domain.errors import BookingError
from services.booking.domain.model import Role as DomainRole
from services.booking.domain.model import SessionType
from services.booking.entrypoints.appointments_api import my_appointments
from services.booking.entrypoints.context import BookingContext, booking
from services.booking.entrypoints.pages import signed_in
from services.booking.entrypoints.student_views import advisers_for, offers_to, waiting_for
from shared.auth.principal import Principal, Role
from shared.http.body import Instant
from shared.http.pages import render
from shared.http.site import site

routes = web.RouteTableDef()

BOOKABLE_BY_STUDENTS = {
    SessionType.INTERVIEW: "Careers interview",
    SessionType.DROPIN: "Drop-in slot",
    SessionType.GROUP: "Group session",
}
SHOW_DAYS = 28


class _SlotForm(BaseModel):
    session_type: SessionType
    starts_at: Instant


def _student(request: web.Request) -> Principal:
    return signed_in(request, Role.STUDENT)


@routes.get("/my")
async def my_page(request: web.Request) -> web.Response:
    principal = _student(request)
    return await render_my(request, principal, notice=request.query.get("notice"))


async def render_my(
    request: web.Request,
    principal: Principal,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    ctx = booking(request)
    now = ctx.clock()
    mine = await my_appointments(ctx, principal)
    upcoming = [a for a in mine if a.status == "confirmed" and a.ends_at > now]
    past = [a for a in mine if a not in upcoming][-5:]
    return render(
        request,
        "my.html",
        {
            "upcoming": upcoming,
            "past": past,
            "notice": NOTICES.get(notice or ""),
            "error": error,
            "kinds": BOOKABLE_BY_STUDENTS,
            "advisers": await advisers_for(ctx, principal),
            "waiting": await waiting_for(ctx, principal),
            "offers": await offers_to(ctx, principal),
            "preferences_url": site(request).url("notifications", "/notifications/my"),
            "work_experience_url": site(request).url("placements", "/placements/my"),
        },
        status=status,
    )


NOTICES = {
    "booked": "Your appointment is booked. We will remind you before it.",
    "cancelled": "Your appointment is cancelled.",
    "moved": "Your appointment has moved to its new time. We will remind you before it.",
    "waiting": "You are on the waiting list. We will tell you when a place comes free.",
    "accepted": "You took the place. Your appointment is booked.",
    "declined": "You turned the place down. It goes to the next student waiting.",
}


@routes.get("/book")
async def book_page(request: web.Request) -> web.Response:
    principal = _student(request)
    try:
        session_type = SessionType(request.query.get("session_type", "interview"))
    except ValueError:
        session_type = SessionType.INTERVIEW
    if session_type not in BOOKABLE_BY_STUDENTS:
        session_type = SessionType.INTERVIEW
    return await _render_book(request, principal, session_type)


async def _render_book(
    request: web.Request,
    principal: Principal,
    session_type: SessionType,
    *,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    school_name, zone, days = await free_times(booking(request), principal, session_type)
    return render(
        request,
        "book.html",
        {
            "days": days,
            "session_type": session_type,
            "kinds": BOOKABLE_BY_STUDENTS,
            "school_name": school_name,
            "zone": zone,
            "error": error,
        },
        status=status,
    )


async def free_times(
    ctx: BookingContext, principal: Principal, session_type: SessionType
) -> tuple[str, str, dict[str, list[datetime]]]:
    """The student's school name and zone, and the times they may book over the next four
    weeks by local date, found as the slots API finds them."""
    now = ctx.clock()
    school_id = next(iter(sorted(principal.school_ids)), None)
    days: dict[str, list[datetime]] = defaultdict(list)
    school_name = ""
    zone = "Europe/London"
    if school_id is None:
        return school_name, zone, {}
    async with ctx.reads() as reads:
        school = await reads.schools.get(school_id)
        student = await reads.students.get(principal.user_id)
        if school is None:
            return school_name, zone, {}
        school_name, zone = school.name, str(school.calendar.zone)
        slots = await find_slots(
            reads,
            school,
            session_type,
            now,
            now + timedelta(days=SHOW_DAYS),
            now,
            student=student,
            staff=False,
        )
    for slot in slots:
        days[slot.start.astimezone(school.calendar.zone).date().isoformat()].append(slot.start)
    return school_name, zone, dict(days)


@routes.post("/book")
async def book(request: web.Request) -> web.StreamResponse:
    principal = _student(request)
    chosen = _slot_form(await request.post())
    if chosen is None:
        return await _render_book(
            request,
            principal,
            SessionType.INTERVIEW,
            error="Choose a time from the list.",
            status=400,
        )
    ctx = booking(request)
    school_id = next(iter(sorted(principal.school_ids)), "")
    cmd = BookSlot(
        school_id=school_id,
        session_type=chosen.session_type,
        starts_at=chosen.starts_at,
        student_id=principal.user_id,
        booked_by=DomainRole.STUDENT,
    )
    try:
        await book_slot(cmd, ctx.unit_of_work(), ctx.clock())
    except BookingError as exc:
        return await _render_book(
            request, principal, chosen.session_type, error=exc.message, status=409
        )
    raise web.HTTPSeeOther("/my?notice=booked")


def _slot_form(form: MultiDictProxy[Any]) -> _SlotForm | None:
    try:
        return _SlotForm.model_validate(
            {"session_type": form.get("session_type"), "starts_at": form.get("starts_at")}
        )
    except ValidationError:
        return None


@routes.post("/appointments/{appointment_id}/cancel")
async def cancel(request: web.Request) -> web.StreamResponse:
    principal = _student(request)
    ctx = booking(request)
    appointment_id = request.match_info["appointment_id"]
    if not await owns(ctx, principal, appointment_id):
        raise web.HTTPNotFound()
    cmd = CancelAppointment(appointment_id, DomainRole.STUDENT, "cancelled by the student")
    try:
        await cancel_appointment(cmd, ctx.unit_of_work(), ctx.clock(), ctx.offer_ttl)
    except BookingError as exc:
        return await render_my(request, principal, error=exc.message, status=409)
    raise web.HTTPSeeOther("/my?notice=cancelled")


async def owns(ctx: BookingContext, principal: Principal, appointment_id: str) -> bool:
    async with ctx.reads() as reads:
        found = await reads.appointments.get(appointment_id)
    return found is not None and found.student_id == principal.user_id
