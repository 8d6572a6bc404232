"""Route-level authorisation helpers for aiohttp handlers."""

from __future__ import annotations

from aiohttp import web

from shared.auth.principal import Principal, Role
from shared.http.middleware import PRINCIPAL, SESSION_COOKIE, TOKEN_ERROR
from shared.http.problems import forbidden, unauthorized


def current_principal(request: web.Request) -> Principal | None:
    return request.get(PRINCIPAL)


def require(request: web.Request, *roles: Role) -> Principal:
    """The signed-in caller, who must hold one of `roles` (any role when none are given)."""
    principal = current_principal(request)
    if principal is None:
        raise unauthorized(request.get(TOKEN_ERROR) or "Sign in first.")
    if roles and principal.role not in roles:
        raise forbidden("Your role may not do this.")
    return principal


def require_school(principal: Principal, school_id: str) -> None:
    if not principal.acts_for_school(school_id):
        raise forbidden("You do not act for this school.")


def set_session_cookie(
    response: web.StreamResponse, token: str, *, max_age: int, secure: bool
) -> None:
    """The page session: HttpOnly so scripts cannot read it, SameSite=Lax against other sites."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="Lax",
        secure=secure,
        path="/",
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path="/")
