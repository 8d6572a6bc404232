"""Slots and appointments: find a time, book it, and follow the appointment's lifecycle."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, Field, model_validator

from services.booking.application.availability import MAX_RANGE, alternatives, find_slots
from services.booking.application.booking import BookSlot, book_slot
from services.booking.application.lifecycle import (
    CancelAppointment,
    RecordAttendance,
    cancel_appointment,
    record_attendance,
)
from services.booking.application.rescheduling import (
    RescheduleAppointment,
    reschedule_appointment,
)
from services.booking.domain.appointments import Appointment, Referral, Urgency
from services.booking.domain.availability import Slot
from services.booking.domain.errors import BookingError
from services.booking.domain.model import AdviserKind, SessionType
from services.booking.entrypoints.access import (
    REFUSED_BOOKING,
    STAFF_WHO_BOOK,
    acting_student,
    domain_role,
    problem_for,
    require_school_access,
    sees_sensitive,
    visible_appointment,
)
from services.booking.entrypoints.context import BookingContext, booking
from services.booking.entrypoints.spec import spec
from shared.auth.principal import Principal, Role
from shared.auth.web import require
from shared.http.body import Instant, Strict, json_response, read_model, read_query
from shared.http.openapi import ApiRoutes, Link
from shared.http.problems import Problem, forbidden, not_found

routes = ApiRoutes(spec)


class SlotQuery(Strict):
    school_id: str = Field(min_length=1, max_length=36)
    session_type: SessionType = SessionType.INTERVIEW
    from_: Instant = Field(alias="from")
    to: Instant

    @model_validator(mode="after")
    def _range(self) -> SlotQuery:
        if self.to <= self.from_:
            raise ValueError("'to' must be after 'from'")
        if self.to - self.from_ > MAX_RANGE:
            raise ValueError("ask for at most 62 days of slots at a time")
        return self


class SlotResponse(BaseModel):
    school_id: str
    session_type: str
    starts_at: datetime
    ends_at: datetime
    places_left: int
    priority_reserved: bool | None = None
    adviser_ids: list[str] | None = None


class SlotList(BaseModel):
    slots: list[SlotResponse]


def slot_response(slot: Slot, staff: bool) -> SlotResponse:
    return SlotResponse(
        school_id=slot.school_id,
        session_type=slot.session_type.value,
        starts_at=slot.start,
        ends_at=slot.end,
        places_left=slot.capacity_remaining,
        priority_reserved=slot.priority_reserved if staff else None,
        adviser_ids=list(slot.adviser_ids) if staff else None,
    )


@routes.get(
    "/api/v1/slots",
    summary="Bookable slots at a school for the caller",
    query=SlotQuery,
    responses={200: SlotList, 403: "Problem", 404: "Problem", 422: "Problem"},
    tags=("appointments",),
)
async def list_slots(request: web.Request) -> web.Response:
    principal = require(request, Role.STUDENT, *STAFF_WHO_BOOK)
    query = read_query(request, SlotQuery)
    require_school_access(principal, query.school_id)
    ctx = booking(request)
    staff = principal.role is not Role.STUDENT
    async with ctx.reads() as reads:
        school = await reads.schools.get(query.school_id)
        if school is None:
            raise not_found("school")
        student = None if staff else await reads.students.get(principal.user_id)
        slots = await find_slots(
            reads,
            school,
            query.session_type,
            query.from_,
            query.to,
            ctx.clock(),
            student=student,
            staff=staff,
        )
    listed = SlotList(slots=[slot_response(x, staff) for x in slots])
    return json_response(listed.model_dump(mode="json", exclude_none=True))


class SlotChoice(Strict):
    school_id: str = Field(min_length=1, max_length=36)
    session_type: SessionType = SessionType.INTERVIEW
    starts_at: Instant


class ReferralBody(Strict):
    reason: str = Field(min_length=3, max_length=2000)
    urgency: Urgency = Urgency.ROUTINE
    required_kind: AdviserKind | None = None


class AppointmentRequest(Strict):
    slot: SlotChoice
    student_id: str | None = Field(default=None, min_length=1, max_length=36)
    adviser_id: str | None = Field(
        default=None, max_length=36, description="an adviser the student asks for"
    )
    referral: ReferralBody | None = None


class ReferralResponse(BaseModel):
    reason: str
    urgency: str
    required_kind: str | None


class AppointmentResponse(BaseModel):
    id: str
    revision: int
    school_id: str
    student_id: str
    adviser_id: str
    session_type: str
    starts_at: datetime
    ends_at: datetime
    location: str
    status: str
    referral: ReferralResponse | None = None


def appointment_response(appointment: Appointment, principal: Principal) -> AppointmentResponse:
    referral = appointment.referral
    return AppointmentResponse(
        id=appointment.id,
        revision=appointment.revision,
        school_id=appointment.school_id,
        student_id=appointment.student_id,
        adviser_id=appointment.adviser_id,
        session_type=appointment.session_type.value,
        starts_at=appointment.interval.start,
        ends_at=appointment.interval.end,
        location=appointment.room,
        status=appointment.status.value,
        referral=ReferralResponse(
            reason=referral.reason,
            urgency=referral.urgency.value,
            required_kind=referral.required_kind.value if referral.required_kind else None,
        )
        if referral is not None and sees_sensitive(principal)
        else None,
    )


async def my_appointments(ctx: BookingContext, principal: Principal) -> list[AppointmentResponse]:
    async with ctx.reads() as reads:
        mine = await reads.appointments.of_student(principal.user_id)
    return [appointment_response(a, principal) for a in mine]


async def refused(
    ctx: BookingContext,
    error: BookingError,
    school_id: str,
    session_type: SessionType,
    wanted: datetime,
    student_id: str | None,
    staff: bool,
) -> Problem:
    """A refused booking names the nearest times that are still free."""
    if not isinstance(error, REFUSED_BOOKING):
        return problem_for(error)
    async with ctx.reads() as reads:
        nearest = await alternatives(
            reads, school_id, session_type, wanted, ctx.clock(), student_id=student_id, staff=staff
        )
    return problem_for(
        error,
        alternatives=[
            slot_response(x, staff).model_dump(mode="json", exclude_none=True) for x in nearest
        ],
    )


@routes.post(
    "/api/v1/appointments",
    summary="Book a slot (students for themselves; staff for a student, as a referral)",
    request=AppointmentRequest,
    responses={
        201: AppointmentResponse,
        404: "No such school or student",
        409: "Taken or overlapping",
        422: "Invalid",
    },
    tags=("appointments",),
    links={
        name: Link(
            method,
            f"/api/v1/appointments/{{appointment_id}}{tail}",
            {"appointment_id": "$response.body#/id"},
        )
        for name, method, tail in (
            ("GetAppointment", "GET", ""),
            ("Reschedule", "POST", "/reschedule"),
            ("Cancel", "POST", "/cancel"),
        )
    },
)
async def create_appointment(request: web.Request) -> web.Response:
    principal = require(request, Role.STUDENT, *STAFF_WHO_BOOK)
    body = await read_model(request, AppointmentRequest)
    student_id = acting_student(principal, body.slot.school_id, body.student_id)
    staff = principal.role is not Role.STUDENT
    if not staff and body.referral is not None:
        raise forbidden("Only staff can make a referral.")
    referral = (
        Referral(
            reason=body.referral.reason,
            urgency=body.referral.urgency,
            required_kind=body.referral.required_kind,
            referred_by=domain_role(principal),
        )
        if body.referral
        else None
    )
    cmd = BookSlot(
        school_id=body.slot.school_id,
        session_type=body.slot.session_type,
        starts_at=body.slot.starts_at,
        student_id=student_id,
        booked_by=domain_role(principal),
        requested_adviser_id=body.adviser_id,
        referral=referral,
    )
    ctx = booking(request)
    try:
        booked = await book_slot(cmd, ctx.unit_of_work(), ctx.clock())
    except BookingError as exc:
        raise await refused(
            ctx, exc, cmd.school_id, cmd.session_type, cmd.starts_at, student_id, staff
        ) from exc
    return json_response(appointment_response(booked, principal), status=201)


async def _visible(ctx: BookingContext, principal: Principal, appointment_id: str) -> Appointment:
    async with ctx.reads() as reads:
        found = await reads.appointments.get(appointment_id)
    return visible_appointment(principal, found)  # type: ignore[no-any-return]


@routes.get(
    "/api/v1/appointments/{appointment_id}",
    summary="One appointment (the referral reason only for staff)",
    responses={200: AppointmentResponse, 404: "Problem"},
    tags=("appointments",),
)
async def read_appointment(request: web.Request) -> web.Response:
    principal = require(request, Role.STUDENT, *STAFF_WHO_BOOK)
    found = await _visible(booking(request), principal, request.match_info["appointment_id"])
    return json_response(appointment_response(found, principal))


class CancelRequest(Strict):
    reason: str | None = Field(default=None, max_length=2000)


@routes.post(
    "/api/v1/appointments/{appointment_id}/cancel",
    summary="Cancel (students up to the cut-off; staff at any time, with a reason)",
    request=CancelRequest,
    responses={200: AppointmentResponse, 404: "Problem", 409: "Problem", 422: "Problem"},
    tags=("appointments",),
)
async def cancel(request: web.Request) -> web.Response:
    principal = require(request, Role.STUDENT, *STAFF_WHO_BOOK)
    body = await read_model(request, CancelRequest)
    ctx = booking(request)
    found = await _visible(ctx, principal, request.match_info["appointment_id"])
    cmd = CancelAppointment(found.id, domain_role(principal), body.reason)
    cancelled = await cancel_appointment(cmd, ctx.unit_of_work(), ctx.clock(), ctx.offer_ttl)
    return json_response(appointment_response(cancelled, principal))


class RescheduleRequest(Strict):
    starts_at: Instant


@routes.post(
    "/api/v1/appointments/{appointment_id}/reschedule",
    summary="Move to another free slot: same appointment, revision bumped",
    request=RescheduleRequest,
    responses={200: AppointmentResponse, 404: "Problem", 409: "Problem", 422: "Problem"},
    tags=("appointments",),
)
async def reschedule(request: web.Request) -> web.Response:
    principal = require(request, Role.STUDENT, *STAFF_WHO_BOOK)
    body = await read_model(request, RescheduleRequest)
    ctx = booking(request)
    found = await _visible(ctx, principal, request.match_info["appointment_id"])
    cmd = RescheduleAppointment(found.id, body.starts_at, domain_role(principal))
    staff = principal.role is not Role.STUDENT
    try:
        moved = await reschedule_appointment(cmd, ctx.unit_of_work(), ctx.clock(), ctx.offer_ttl)
    except BookingError as exc:
        raise await refused(
            ctx,
            exc,
            found.school_id,
            found.session_type,
            body.starts_at,
            found.student_id,
            staff,
        ) from exc
    return json_response(appointment_response(moved, principal))


class AttendanceRequest(Strict):
    attended: bool


@routes.post(
    "/api/v1/appointments/{appointment_id}/attendance",
    summary="Record attendance or a no-show (a no-show is chased at once)",
    request=AttendanceRequest,
    responses={200: AppointmentResponse, 404: "Problem", 409: "Problem"},
    tags=("appointments",),
)
async def attendance(request: web.Request) -> web.Response:
    principal = require(request, *STAFF_WHO_BOOK)
    body = await read_model(request, AttendanceRequest)
    ctx = booking(request)
    found = await _visible(ctx, principal, request.match_info["appointment_id"])
    cmd = RecordAttendance(found.id, body.attended)
    updated = await record_attendance(cmd, ctx.unit_of_work(), ctx.clock())
    return json_response(appointment_response(updated, principal))
