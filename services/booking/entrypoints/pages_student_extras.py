"""A student's extras on a phone: move an appointment to another time, wait on a waitlist and
take (or turn down) a place it offers, and queue at today's drop-in.

Plain forms over the same application functions as the JSON API, so the rules are the
API's. The drop-in page follows the queue with a small script polling the queue API; without
it, refreshing the page shows the same.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ValidationError

from services.booking.application import dropins
from services.booking.application.booking import BookSlot, book_slot
from services.booking.application.rescheduling import (
    RescheduleAppointment,
    reschedule_appointment,
)
from services.booking.application.waitlist import (
    DeclineOffer,
    JoinWaitlist,
    decline_offer,
    join_waitlist,
    offered,
)
from services.booking.domain.errors import BookingError
from services.booking.domain.model import Role as DomainRole
from services.booking.domain.model import SessionType
from services.booking.entrypoints.context import booking
from services.booking.entrypoints.pages import signed_in
from services.booking.entrypoints.pages_student import (
    BOOKABLE_BY_STUDENTS,
    free_times,
    owns,
    render_my,
)
from services.booking.entrypoints.student_views import dropins_today, opens_at, school_of
from shared.auth.principal import Principal, Role
from shared.http.body import Instant
from shared.http.pages import render

routes = web.RouteTableDef()
POLL_SECONDS = 3


class _Time(BaseModel):
    starts_at: Instant


def _student(request: web.Request) -> Principal:
    return signed_in(request, Role.STUDENT)


async def _mine(request: web.Request, principal: Principal) -> str:
    appointment_id = request.match_info["appointment_id"]
    if not await owns(booking(request), principal, appointment_id):
        raise web.HTTPNotFound()
    return appointment_id


@routes.get("/appointments/{appointment_id}/reschedule")
async def reschedule_page(request: web.Request) -> web.Response:
    principal = _student(request)
    return await _render_reschedule(request, principal, await _mine(request, principal))


async def _render_reschedule(
    request: web.Request,
    principal: Principal,
    appointment_id: str,
    *,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    ctx = booking(request)
    async with ctx.reads() as reads:
        current = await reads.appointments.get(appointment_id)
    if current is None:
        raise web.HTTPNotFound()
    school_name, zone, days = await free_times(ctx, principal, current.session_type)
    return render(
        request,
        "reschedule.html",
        {
            "appointment": current,
            "kind": BOOKABLE_BY_STUDENTS.get(current.session_type, "Careers appointment"),
            "days": days,
            "school_name": school_name,
            "zone": zone,
            "error": error,
        },
        status=status,
    )


@routes.post("/appointments/{appointment_id}/reschedule")
async def reschedule(request: web.Request) -> web.StreamResponse:
    principal = _student(request)
    appointment_id = await _mine(request, principal)
    try:
        chosen = _Time.model_validate({"starts_at": (await request.post()).get("starts_at")})
    except ValidationError:
        return await _render_reschedule(
            request, principal, appointment_id, error="Choose a time from the list.", status=400
        )
    ctx = booking(request)
    cmd = RescheduleAppointment(appointment_id, chosen.starts_at, DomainRole.STUDENT)
    try:
        await reschedule_appointment(cmd, ctx.unit_of_work(), ctx.clock(), ctx.offer_ttl)
    except BookingError as exc:
        return await _render_reschedule(
            request, principal, appointment_id, error=exc.message, status=409
        )
    raise web.HTTPSeeOther("/my?notice=moved")


@routes.post("/waitlist")
async def join(request: web.Request) -> web.StreamResponse:
    principal = _student(request)
    try:
        kind = SessionType(str((await request.post()).get("session_type", "")))
    except ValueError:
        kind = None
    if kind not in BOOKABLE_BY_STUDENTS:
        return await render_my(request, principal, error="Choose what to wait for.", status=400)
    ctx = booking(request)
    cmd = JoinWaitlist(school_of(principal) or "", principal.user_id, kind)
    try:
        await join_waitlist(cmd, ctx.unit_of_work(), ctx.clock())
    except BookingError as exc:
        return await render_my(request, principal, error=exc.message, status=409)
    raise web.HTTPSeeOther("/my?notice=waiting")


@routes.post("/offers/{offer_id}/accept")
async def accept(request: web.Request) -> web.StreamResponse:
    principal = _student(request)
    ctx = booking(request)
    try:
        async with ctx.reads() as reads:
            found = await reads.waitlist.open_offer(
                request.match_info["offer_id"], principal.user_id
            )
        offer = offered(found)
        cmd = BookSlot(
            offer.school_id,
            offer.session_type,
            offer.interval.start,
            principal.user_id,
            DomainRole.STUDENT,
        )
        await book_slot(cmd, ctx.unit_of_work(), ctx.clock())
    except BookingError as exc:
        return await render_my(request, principal, error=exc.message, status=409)
    raise web.HTTPSeeOther("/my?notice=accepted")


@routes.post("/offers/{offer_id}/decline")
async def decline(request: web.Request) -> web.StreamResponse:
    principal = _student(request)
    ctx = booking(request)
    cmd = DeclineOffer(request.match_info["offer_id"], principal.user_id)
    try:
        await decline_offer(cmd, ctx.unit_of_work(), ctx.clock())
    except BookingError as exc:
        return await render_my(request, principal, error=exc.message, status=409)
    raise web.HTTPSeeOther("/my?notice=declined")


@routes.get("/dropin")
async def dropin_page(request: web.Request) -> web.Response:
    principal = _student(request)
    return await _render_dropin(request, principal)


async def _render_dropin(
    request: web.Request,
    principal: Principal,
    *,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    ctx = booking(request)
    now = ctx.clock()
    return render(
        request,
        "dropin.html",
        {
            "today": await dropins_today(ctx, principal),
            "now": now,
            "opens_at": opens_at,
            "poll_seconds": POLL_SECONDS,
            "error": error,
        },
        status=status,
    )


@routes.post("/dropin/{session_id}/join")
async def join_queue(request: web.Request) -> web.StreamResponse:
    principal = _student(request)
    ctx = booking(request)
    session_id = request.match_info["session_id"]
    if session_id not in {d.session.id for d in await dropins_today(ctx, principal)}:
        raise web.HTTPNotFound()
    cmd = dropins.JoinQueue(session_id, principal.user_id)
    try:
        await dropins.join_queue(cmd, ctx.unit_of_work(), ctx.clock())
    except BookingError as exc:
        return await _render_dropin(request, principal, error=exc.message, status=409)
    raise web.HTTPSeeOther("/dropin")
