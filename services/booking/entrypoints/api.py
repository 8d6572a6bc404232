"""Booking's HTTP API (JSON). Paths under /api/v1 are the public contract."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from services.booking.application.appointments import (
    AppointmentConflict,
    BookAppointment,
    UnknownStudent,
    book_appointment,
)
from services.booking.application.identity import InvalidCredentials
from services.booking.entrypoints.context import booking
from shared.auth.principal import Role
from shared.auth.web import require, require_school
from shared.http.body import json_response, read_model
from shared.http.middleware import SESSION_COOKIE
from shared.http.openapi import ApiSpec
from shared.http.problems import Problem, conflict, forbidden

spec = ApiSpec("Signpost booking", "1.0", "Guidance interviews, drop-ins and the directory.")
routes = web.RouteTableDef()


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1000)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str


@spec.operation(
    "POST",
    "/api/v1/auth/login",
    summary="Sign in with email and password",
    request=LoginRequest,
    responses={200: TokenResponse, 401: "Problem"},
    tags=("identity",),
    public=True,
)
@routes.post("/api/v1/auth/login")
async def login(request: web.Request) -> web.Response:
    body = await read_model(request, LoginRequest)
    ctx = booking(request)
    try:
        signed = await ctx.identity.sign_in(body.email, body.password)
    except InvalidCredentials as exc:
        raise Problem(
            401, "Unauthorized", "The email or password is wrong.", type_="invalid-credentials"
        ) from exc
    response = json_response(
        TokenResponse(access_token=signed.token, expires_in=signed.expires_in, role=signed.role)
    )
    response.set_cookie(
        SESSION_COOKIE,
        signed.token,
        max_age=signed.expires_in,
        httponly=True,
        samesite="Lax",
        secure=ctx.settings.cookie_secure,
        path="/",
    )
    return response


@spec.operation(
    "POST",
    "/api/v1/auth/logout",
    summary="Sign out and revoke this session",
    responses={204: "Signed out"},
    tags=("identity",),
)
@routes.post("/api/v1/auth/logout")
async def logout(request: web.Request) -> web.Response:
    principal = require(request)
    if principal.session_id:
        await booking(request).identity.sign_out(principal.session_id)
    response = web.Response(status=204)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


class AppointmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    school_id: str = Field(min_length=1, max_length=36)
    student_id: str | None = Field(default=None, max_length=36)
    adviser_id: str = Field(min_length=1, max_length=36)
    session_type: str = Field(default="interview", pattern=r"^[a-z_]{2,30}$")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    location: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _ends_after_start(self) -> AppointmentRequest:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


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


@spec.operation(
    "POST",
    "/api/v1/appointments",
    summary="Book an appointment",
    request=AppointmentRequest,
    responses={201: AppointmentResponse, 409: "Taken or overlapping", 422: "Invalid"},
    tags=("appointments",),
)
@routes.post("/api/v1/appointments")
async def create_appointment(request: web.Request) -> web.Response:
    principal = require(request)
    body = await read_model(request, AppointmentRequest)
    require_school(principal, body.school_id)
    if principal.role is Role.STUDENT:
        if body.student_id not in (None, principal.user_id):
            raise forbidden("A student can book only for themselves.")
        student_id = principal.user_id
    elif body.student_id is None:
        raise Problem(
            422, "Invalid request", "student_id: staff must name the student", type_="validation"
        )
    else:
        student_id = body.student_id
    cmd = BookAppointment(
        school_id=body.school_id,
        student_id=student_id,
        adviser_id=body.adviser_id,
        session_type=body.session_type,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        location=body.location,
    )
    try:
        async with booking(request).unit_of_work() as uow:
            booked = await book_appointment(uow, cmd)
    except UnknownStudent as exc:
        raise Problem(
            422, "Invalid request", "No such student at this school.", type_="unknown-student"
        ) from exc
    except AppointmentConflict as exc:
        raise conflict(
            "The adviser or the student already has an appointment at that time.",
            type_="slot-taken",
        ) from exc
    event = booked.event
    return json_response(
        AppointmentResponse(
            id=booked.appointment_id,
            revision=booked.revision,
            school_id=event.school_id,
            student_id=event.student_id,
            adviser_id=event.adviser_id,
            session_type=event.session_type,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            location=event.location,
            status="confirmed",
        ),
        status=201,
    )
