"""Booking's HTTP API (JSON). Paths under /api/v1 are the public contract."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from services.booking.application.identity import (
    AccountDisabled,
    InvalidCredentials,
    TooManyAttempts,
)
from services.booking.entrypoints.access import DEVICE_COOKIE, remember_device
from services.booking.entrypoints.appointments_api import AppointmentResponse, my_appointments
from services.booking.entrypoints.context import booking
from services.booking.entrypoints.spec import spec
from shared.auth.principal import Role
from shared.auth.web import clear_session_cookie, require, set_session_cookie
from shared.http.body import Strict, json_response, read_model
from shared.http.openapi import ApiRoutes
from shared.http.problems import Problem

__all__ = ["routes", "spec"]

routes = ApiRoutes(spec)

# Said whatever password was given, so that it tells nothing about the password.
DISABLED_MESSAGE = (
    "This account is disabled, so it cannot sign in. Ask your Signpost administrator."
)


class LoginRequest(Strict):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1000)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str


@routes.post(
    "/api/v1/auth/login",
    summary="Sign in with email and password",
    request=LoginRequest,
    responses={200: TokenResponse, 401: "Problem", 403: "Problem", 429: "Problem"},
    tags=("identity",),
    public=True,
)
async def login(request: web.Request) -> web.Response:
    body = await read_model(request, LoginRequest)
    ctx = booking(request)
    try:
        signed = await ctx.identity.sign_in(
            body.email,
            body.password,
            client=request.remote,
            device=request.cookies.get(DEVICE_COOKIE),
        )
    except TooManyAttempts as exc:
        seconds = int(exc.retry_after.total_seconds()) + 1
        raise Problem(
            429,
            "Too many attempts",
            f"Too many failed sign-ins from here: try again in {seconds} seconds.",
            type_="too-many-attempts",
            headers={"Retry-After": str(int(exc.retry_after.total_seconds()) + 1)},
            retry_after_seconds=int(exc.retry_after.total_seconds()),
        ) from exc
    except InvalidCredentials as exc:
        raise Problem(
            401, "Unauthorized", "The email or password is wrong.", type_="invalid-credentials"
        ) from exc
    except AccountDisabled as exc:
        raise Problem(403, "Forbidden", DISABLED_MESSAGE, type_="account-disabled") from exc
    response = json_response(
        TokenResponse(access_token=signed.token, expires_in=signed.expires_in, role=signed.role)
    )
    set_session_cookie(
        response, signed.token, max_age=signed.expires_in, secure=ctx.settings.cookie_secure
    )
    remember_device(
        response, signed.device_token, path="/api/v1/auth/login", secure=ctx.settings.cookie_secure
    )
    return response


@routes.post(
    "/api/v1/auth/logout",
    summary="Sign out and revoke this session",
    responses={204: "Signed out"},
    tags=("identity",),
)
async def logout(request: web.Request) -> web.Response:
    principal = require(request)
    if principal.session_id:
        await booking(request).identity.sign_out(principal.session_id)
    response = web.Response(status=204)
    clear_session_cookie(response)
    return response


class MeResponse(BaseModel):
    user_id: str
    role: str
    school_ids: list[str]
    appointments: list[AppointmentResponse] | None = None


@routes.get(
    "/api/v1/me",
    summary="Who I am, my role and schools, and for a student my appointments",
    responses={200: MeResponse, 401: "Problem"},
    tags=("identity",),
)
async def me(request: web.Request) -> web.Response:
    principal = require(request)
    mine = None
    if principal.role is Role.STUDENT:
        mine = await my_appointments(booking(request), principal)
    return json_response(
        MeResponse(
            user_id=principal.user_id,
            role=principal.role.value,
            school_ids=sorted(principal.school_ids),
            appointments=mine,
        )
    )
