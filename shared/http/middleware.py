"""Middlewares: request and correlation ids, problem+json errors, metrics, authentication."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web
from aiohttp.typedefs import Middleware
from yarl import URL

from shared.auth.principal import Principal
from shared.auth.revocations import RevokedSessions
from shared.auth.tokens import TokenError, TokenVerifier
from shared.context import correlation_scope, new_id
from shared.db import is_transient
from shared.http.problems import Problem, problem_response
from shared.logging import get_logger
from shared.metrics import HTTP_LATENCY, HTTP_REQUESTS

log = get_logger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

REQUEST_ID_HEADER = "X-Request-ID"
CORRELATION_ID_HEADER = "X-Correlation-ID"
SESSION_COOKIE = "signpost_session"
PRINCIPAL = web.RequestKey("principal", Principal)
TOKEN_ERROR = web.RequestKey("token_error", str)
SESSION_ENDED = "this session has ended; sign in again"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


def _incoming_id(request: web.Request, header: str) -> str | None:
    value = request.headers.get(header)
    return value if value and _SAFE_ID.match(value) else None


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = _incoming_id(request, REQUEST_ID_HEADER) or new_id()
    correlation_id = _incoming_id(request, CORRELATION_ID_HEADER) or request_id
    with (
        correlation_scope(correlation_id),
        structlog.contextvars.bound_contextvars(request_id=request_id),
    ):
        response = await handler(request)
        response.headers[REQUEST_ID_HEADER] = request_id
        response.headers[CORRELATION_ID_HEADER] = correlation_id
        return response


ErrorTranslator = Callable[[Exception], Problem | None]


def problems_middleware(translate: ErrorTranslator | None = None) -> Middleware:
    """Every failure becomes an `application/problem+json` response.

    `translate` maps a service's own domain errors to problems (None for anything else), so
    no handler needs a try/except of its own and none can forget one.
    """

    @web.middleware
    async def problems(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except Problem as raised:
            return problem_response(raised, instance=request.path)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response = problem_response(
                Problem(exc.status, exc.reason, _http_detail(exc)), instance=request.path
            )
            if isinstance(exc, web.HTTPMethodNotAllowed):
                response.headers["Allow"] = ", ".join(sorted(exc.allowed_methods))
            return response
        except Exception as exc:
            translated = translate(exc) if translate is not None else None
            if translated is not None:
                return problem_response(translated, instance=request.path)
            if is_transient(exc):
                log.warning(
                    "http.database_unavailable", path=request.path, error=type(exc).__name__
                )
                away = Problem(
                    503,
                    "Service unavailable",
                    "The database could not be reached just now; try again shortly.",
                    headers={"Retry-After": "2"},
                )
                return problem_response(away, instance=request.path)
            log.exception("http.unhandled_error", path=request.path, error=type(exc).__name__)
            failure = Problem(
                500, "Internal server error", "Something went wrong on our side; try again shortly."
            )
            return problem_response(failure, instance=request.path)

    return problems


problems = problems_middleware()


def _http_detail(exc: web.HTTPException) -> str:
    if isinstance(exc, web.HTTPNotFound):
        return "There is nothing at this address."
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return f"Use one of: {', '.join(sorted(exc.allowed_methods))}."
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return "The request body is too large."
    return exc.text or exc.reason


def metrics_middleware(service: str) -> Middleware:
    @web.middleware
    async def metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:  # redirects and errors raised as exceptions
            status = exc.status
            raise
        finally:
            resource = request.match_info.route.resource
            route = resource.canonical if resource is not None else "unmatched"
            HTTP_REQUESTS.labels(service, request.method, route, str(status)).inc()
            HTTP_LATENCY.labels(service, request.method, route).observe(
                time.perf_counter() - started
            )

    return metrics


def authentication(
    verifier: TokenVerifier,
    *,
    public_origin: str | None = None,
    revoked: RevokedSessions | None = None,
) -> Middleware:
    """Attach the caller's Principal (or None) to the request; routes decide what they need.

    A token whose session is in `revoked` counts as no token, with the reason kept for 401s.

    `public_origin` is the scheme, host and port people reach the service at, when that is
    not what it sees itself (behind a proxy that ends TLS); a cookie-authenticated change must
    come from there.
    """
    expected = _origin_of(public_origin) if public_origin else None

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        token = _bearer(request)
        if token is None:
            token = request.cookies.get(SESSION_COOKIE)
            if token and request.method not in SAFE_METHODS and not _same_origin(request, expected):
                raise Problem(
                    403,
                    "Forbidden",
                    "This request came from another site; submit the form from Signpost itself.",
                    type_="cross-site-request",
                )
        if token and not _PRINTABLE_ASCII.fullmatch(token):
            # A token is printable ASCII; anything else (bytes that are not UTF-8, spaces)
            # cannot be one, and is refused as such rather than reaching the verifier.
            request[TOKEN_ERROR] = "the token is not valid"
        elif token:
            try:
                principal = verifier.verify(token)
            except TokenError as exc:
                request[TOKEN_ERROR] = str(exc)
            else:
                sid = principal.session_id
                if sid and revoked is not None and await revoked.is_revoked(sid):
                    request[TOKEN_ERROR] = SESSION_ENDED
                else:
                    request[PRINCIPAL] = principal
                    structlog.contextvars.bind_contextvars(user_id=principal.user_id)
        return await handler(request)

    return authenticate


_PRINTABLE_ASCII = re.compile(r"[!-~]{1,4096}")


def _origin_of(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) of an absolute http(s) URL, or None for anything else."""
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        return None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return None
    return parsed.scheme, parsed.host.lower(), parsed.port


def _same_origin(request: web.Request, expected: tuple[str, str, int | None] | None) -> bool:
    """A browser sends Origin (or at least Referer) with form posts and fetches; a cookie-
    authenticated change is accepted only when that names this service's own origin (scheme,
    host and port), so another site cannot make a signed-in user's browser act for them
    (CSRF). A header that is not an http(s) URL is refused like a foreign one."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return False
    claimed = _origin_of(source)
    if claimed is None:
        return False
    own = expected or _origin_of(f"{request.scheme}://{request.host}")
    return claimed == own


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None
