"""Who may see and change what, and how a refused booking rule becomes a problem document.

A student sees and changes only their own records; an adviser the schools they serve; a
coordinator their own school; an admin everything; EBP staff nothing here. Records a caller
may not see answer 404, as if absent, so that ids cannot be probed; actions a caller may see
but not take answer 403.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from services.booking.application.agreements import UnknownAdvisers
from services.booking.application.dropins import DropInNotOpen, QueueBusy, UnknownDropIn
from services.booking.application.waitlist import AlreadyWaiting, UnknownOffer, WaitlistInThePast
from services.booking.domain import errors
from services.booking.domain.errors import SlotUnavailable
from services.booking.domain.model import Role as DomainRole
from services.booking.entrypoints.context import booking
from shared.auth.principal import Principal, Role
from shared.auth.web import current_principal, set_session_cookie
from shared.http.middleware import (
    PRINCIPAL,
    SESSION_COOKIE,
    SESSION_ENDED,
    TOKEN_ERROR,
    Handler,
)
from shared.http.problems import Problem, forbidden, not_found

STAFF_WHO_BOOK = (Role.ADVISER, Role.COORDINATOR, Role.ADMIN)
STAFF_WHO_SEE_FLAGS = (Role.ADVISER, Role.COORDINATOR, Role.ADMIN)

_STATUS: dict[type[errors.BookingError], int] = {
    errors.SlotTaken: 409,
    errors.SessionFull: 409,
    errors.StudentAlreadyBooked: 409,
    SlotUnavailable: 409,
    errors.NoAdviserAvailable: 409,
    errors.OutsideBookingWindow: 422,
    errors.SessionTypeNotOffered: 422,
    errors.CancellationTooLate: 409,
    errors.ReasonRequired: 422,
    errors.InvalidTransition: 409,
    errors.UnknownAppointment: 404,
    errors.UnknownStudent: 422,
    errors.UnknownSchool: 404,
    AlreadyWaiting: 409,
    WaitlistInThePast: 422,
    UnknownOffer: 404,
    errors.AlreadyQueued: 409,
    errors.NotInQueue: 404,
    UnknownDropIn: 404,
    DropInNotOpen: 409,
    QueueBusy: 409,
}
REFUSED_BOOKING = (
    errors.SlotTaken,
    errors.SessionFull,
    errors.StudentAlreadyBooked,
    SlotUnavailable,
    errors.NoAdviserAvailable,
    errors.OutsideBookingWindow,
)


def problem_for(error: errors.BookingError, **extra: Any) -> Problem:
    status = _STATUS.get(type(error), 409)
    titles = {404: "Not found", 409: "Conflict", 422: "Invalid request"}
    return Problem(
        status, titles[status], error.message, type_=error.code.replace("_", "-"), **extra
    )


def translate_booking_error(error: Exception) -> Problem | None:
    """The shared problems middleware's translator: any `BookingError` a handler lets out."""
    if isinstance(error, errors.BookingError):
        return problem_for(error)
    return None


def unknown_advisers(exc: UnknownAdvisers) -> Problem:
    return Problem(
        422,
        "Invalid request",
        f"attendances: no such adviser: {', '.join(exc.adviser_ids)}",
        type_="unknown-adviser",
    )


def domain_role(principal: Principal) -> DomainRole:
    return DomainRole(principal.role.value)


def can_see_school(principal: Principal, school_id: str) -> bool:
    return principal.sees_guidance_at(school_id)


def require_school_access(principal: Principal, school_id: str) -> None:
    if not can_see_school(principal, school_id):
        raise forbidden("You do not act for this school.")


def acting_student(principal: Principal, school_id: str, student_id: str | None) -> str:
    """The student a booking action at `school_id` is for.

    The caller must act for the school (403). A student acts for themself: naming anyone
    else is refused (403). Staff must name the student (422); whether that student is at
    the school is the use case's to check.
    """
    require_school_access(principal, school_id)
    if principal.role is Role.STUDENT:
        if student_id not in (None, principal.user_id):
            raise forbidden("A student can act only for themselves.")
        return principal.user_id
    if student_id is None:
        raise Problem(
            422, "Invalid request", "student_id: staff must name the student", type_="validation"
        )
    return student_id


def can_see_appointment(principal: Principal, row: Any) -> bool:
    if principal.role is Role.STUDENT:
        return bool(row.student_id == principal.user_id)
    if principal.role is Role.ADVISER and row.adviser_id == principal.user_id:
        return True
    return can_see_school(principal, row.school_id)


def visible_appointment(principal: Principal, row: Any) -> Any:
    if row is None or not can_see_appointment(principal, row):
        raise not_found("appointment")
    return row


def sees_sensitive(principal: Principal) -> bool:
    """Priority flags and referral reasons are for the staff who act on them."""
    return principal.role in STAFF_WHO_SEE_FLAGS


def session_guard() -> Middleware:
    """Treat a token whose session was signed out (or has ended) as no sign-in at all, and
    keep a page session that is still in use signed in past one token's short life.

    Only booking holds the sessions table; every service (booking too) also refuses the
    sessions in its revocation list (`shared.auth.revocations`).
    """

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        principal = current_principal(request)
        if (
            principal is not None
            and principal.session_id
            and not await booking(request).identity.session_active(principal.session_id)
        ):
            del request[PRINCIPAL]
            request[TOKEN_ERROR] = SESSION_ENDED
            return await handler(request)
        if principal is None or not _needs_fresh_cookie(request, principal):
            return await handler(request)
        token, max_age = booking(request).identity.reissue(principal)
        secure = booking(request).settings.cookie_secure
        try:
            response = await handler(request)
        except web.HTTPException as raised:  # redirects after a form post are raised
            set_session_cookie(raised, token, max_age=max_age, secure=secure)
            raise
        set_session_cookie(response, token, max_age=max_age, secure=secure)
        return response

    return guard


def _needs_fresh_cookie(request: web.Request, principal: Principal) -> bool:
    """A page session slides: past half its life, a cookie's token is replaced.

    Only cookies (pages) slide; a bearer token's holder asks for a new one by signing in.
    """
    if principal.expires_at is None or principal.session_id is None:
        return False
    if "Authorization" in request.headers or SESSION_COOKIE not in request.cookies:
        return False
    remaining = principal.expires_at - booking(request).clock()
    lifetime = timedelta(seconds=booking(request).settings.token_ttl_seconds)
    return remaining < lifetime / 2


DEVICE_COOKIE = "signpost_device"
DEVICE_COOKIE_DAYS = 365


def remember_device(
    response: web.StreamResponse, device_token: str, *, path: str, secure: bool
) -> None:
    """The device cookie that lets this browser through the sign-in slow-down with the right
    password: HttpOnly, and sent only to the sign-in at `path`."""
    response.set_cookie(
        DEVICE_COOKIE,
        device_token,
        max_age=DEVICE_COOKIE_DAYS * 86400,
        httponly=True,
        samesite="Strict",
        secure=secure,
        path=path,
    )
