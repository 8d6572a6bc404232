"""Accounts: a signed-in person changes their password; an admin disables, re-enables or signs
out everywhere an account. Each ends sessions, announced as `identity.session.revoked`."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web
from pydantic import BaseModel, Field

from services.booking.application.identity import (
    OwnAccount,
    TooManyAttempts,
    UnacceptablePassword,
    UnknownAccount,
    WrongPassword,
)
from services.booking.domain.passwords import MAX_LENGTH
from services.booking.entrypoints.context import booking
from services.booking.entrypoints.spec import spec
from shared.auth.principal import Role
from shared.auth.web import require
from shared.http.body import Strict, json_response, read_model
from shared.http.openapi import ApiRoutes
from shared.http.problems import Problem, not_found

routes = ApiRoutes(spec)


class PasswordChange(Strict):
    current_password: str = Field(min_length=1, max_length=MAX_LENGTH)
    new_password: str = Field(min_length=1, max_length=MAX_LENGTH)


class PasswordChanged(BaseModel):
    other_sessions_ended: int


class AccountStatusResponse(BaseModel):
    account_id: str
    active: bool
    sessions_ended: int


def too_many(wait: timedelta) -> Problem:
    seconds = int(wait.total_seconds()) + 1
    return Problem(
        429,
        "Too many attempts",
        f"Too many wrong passwords: try again in {seconds} seconds.",
        type_="too-many-attempts",
        headers={"Retry-After": str(seconds)},
        retry_after_seconds=seconds - 1,
    )


def wrong_password() -> Problem:
    return Problem(403, "Forbidden", "Your current password is wrong.", type_="wrong-password")


def unacceptable(error: UnacceptablePassword) -> Problem:
    return Problem(
        422, "Invalid request", str(error), type_="unacceptable-password", field="new_password"
    )


@routes.post(
    "/api/v1/auth/password",
    summary="Change my password (the current one is needed); my other sessions end",
    request=PasswordChange,
    responses={200: PasswordChanged, 403: "Problem", 422: "Problem", 429: "Problem"},
    tags=("identity",),
)
async def change_password(request: web.Request) -> web.Response:
    principal = require(request)
    body = await read_model(request, PasswordChange)
    identity = booking(request).identity
    try:
        ended = await identity.change_password(principal, body.current_password, body.new_password)
    except TooManyAttempts as exc:
        raise too_many(exc.retry_after) from exc
    except WrongPassword as exc:
        raise wrong_password() from exc
    except UnacceptablePassword as exc:
        raise unacceptable(exc) from exc
    return json_response(PasswordChanged(other_sessions_ended=ended))


async def _set_active(request: web.Request, active: bool) -> web.Response:
    principal = require(request, Role.ADMIN)
    try:
        status = await booking(request).identity.set_active(
            principal, request.match_info["account_id"], active
        )
    except UnknownAccount as exc:
        raise not_found("account") from exc
    except OwnAccount as exc:
        raise Problem(
            409,
            "Conflict",
            "You cannot disable the account you are signed in with.",
            type_="own-account",
        ) from exc
    return json_response(
        AccountStatusResponse(
            account_id=status.account_id, active=status.active, sessions_ended=status.sessions_ended
        )
    )


@routes.post(
    "/api/v1/accounts/{account_id}/disable",
    summary="Disable an account: its sessions end and it cannot sign in (admins)",
    responses={200: AccountStatusResponse, 403: "Problem", 404: "Problem", 409: "Problem"},
    tags=("identity",),
)
async def disable_account(request: web.Request) -> web.Response:
    return await _set_active(request, False)


@routes.post(
    "/api/v1/accounts/{account_id}/enable",
    summary="Enable a disabled account again (admins)",
    responses={200: AccountStatusResponse, 403: "Problem", 404: "Problem"},
    tags=("identity",),
)
async def enable_account(request: web.Request) -> web.Response:
    return await _set_active(request, True)


@routes.post(
    "/api/v1/accounts/{account_id}/sign-out",
    summary="Sign an account out everywhere: every session it has open ends (admins)",
    responses={200: AccountStatusResponse, 403: "Problem", 404: "Problem"},
    tags=("identity",),
)
async def sign_out_everywhere(request: web.Request) -> web.Response:
    require(request, Role.ADMIN)
    account_id = request.match_info["account_id"]
    identity = booking(request).identity
    try:
        ended = await identity.sign_out_everywhere(account_id)
        account = await identity.account(account_id)
    except UnknownAccount as exc:
        raise not_found("account") from exc
    return json_response(
        AccountStatusResponse(account_id=account_id, active=account.active, sessions_ended=ended)
    )
