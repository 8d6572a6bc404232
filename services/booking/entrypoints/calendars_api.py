"""A PA's calendar feed (its URL and the feed itself) and the import of their own calendar.

The feed's URL is its only credential: it is never logged (nor is an imported calendar's),
and a fetch that fails unexpectedly is logged without its path.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from functools import partial

from aiohttp import web
from prometheus_client import Counter
from pydantic import BaseModel, Field, field_validator
from yarl import URL

from services.booking.adapters.ics import render_feed
from services.booking.application.calendar_import import (
    register_import,
    show_import,
    stop_import,
)
from services.booking.application.calendars import (
    FeedView,
    fetch_feed,
    revoke_feed,
    rotate_feed,
    show_feed,
)
from services.booking.entrypoints.context import booking
from services.booking.entrypoints.spec import spec
from shared.auth.principal import Role
from shared.auth.web import require
from shared.http.body import Strict, json_response, read_model
from shared.http.openapi import ApiRoutes
from shared.http.problems import not_found
from shared.logging import get_logger

routes = ApiRoutes(spec)
# The feed is for calendar apps, outside the API (and its OpenAPI document), as pages are.
feed_routes = web.RouteTableDef()
log = get_logger(__name__)

FEED_FETCHES = Counter(
    "signpost_calendar_feed_fetches_total",
    "PA calendar feed fetches, by outcome",
    ["outcome"],
)
FEED_PATH = "/feeds/{token:[A-Za-z0-9_-]{20,100}}.ics"


class FeedResponse(BaseModel):
    url: str
    created_at: datetime
    last_fetched_at: datetime | None
    fetches: int


def _feed_response(request: web.Request, view: FeedView) -> web.Response:
    return json_response(
        FeedResponse(
            url=f"{request.url.origin()}/feeds/{view.token}.ics",
            created_at=view.created_at,
            last_fetched_at=view.last_fetched_at,
            fetches=view.fetches,
        ).model_dump(mode="json")
    )


@routes.get(
    "/api/v1/advisers/me/feed",
    summary="My secret calendar feed's URL, and when a calendar app last fetched it",
    responses={200: FeedResponse, 404: "Problem"},
    tags=("calendars",),
)
async def my_feed(request: web.Request) -> web.Response:
    principal = require(request, Role.ADVISER)
    ctx = booking(request)
    view = await show_feed(ctx.unit_of_work(), ctx.feed_tokens, principal.user_id)
    if view is None:
        raise not_found("feed")
    return _feed_response(request, view)


@routes.post(
    "/api/v1/advisers/me/feed/rotation",
    summary="A new secret feed URL; the old one stops working at once",
    responses={200: FeedResponse},
    tags=("calendars",),
)
async def rotate_my_feed(request: web.Request) -> web.Response:
    principal = require(request, Role.ADVISER)
    ctx = booking(request)
    view = await rotate_feed(ctx.unit_of_work(), ctx.feed_tokens, principal.user_id, ctx.clock())
    return _feed_response(request, view)


@routes.delete(
    "/api/v1/advisers/me/feed",
    summary="Stop my calendar feed; its URL stops working at once",
    responses={204: "No feed now", 404: "Problem"},
    tags=("calendars",),
)
async def revoke_my_feed(request: web.Request) -> web.Response:
    principal = require(request, Role.ADVISER)
    if not await revoke_feed(booking(request).unit_of_work(), principal.user_id):
        raise not_found("feed")
    return web.Response(status=204)


@feed_routes.get(FEED_PATH)
async def feed(request: web.Request) -> web.StreamResponse:
    """A PA's appointments as iCalendar; the URL is the only credential."""
    ctx = booking(request)
    render = partial(render_feed, name="Careers appointments", base_url=str(request.url.origin()))
    try:
        found = await fetch_feed(
            ctx.unit_of_work(),
            request.match_info["token"],
            ctx.clock(),
            render,
            if_none_match=request.headers.get("If-None-Match"),
            if_modified_since=request.if_modified_since,
        )
    except Exception as exc:
        log.warning("calendar.feed_failed", error=type(exc).__name__)
        FEED_FETCHES.labels("failed").inc()
        raise web.HTTPServiceUnavailable() from None
    if found is None:
        FEED_FETCHES.labels("unknown").inc()
        raise not_found("feed")
    headers = {"ETag": found.etag, "Cache-Control": "private, max-age=300"}
    if found.last_modified is not None:
        headers["Last-Modified"] = format_datetime(found.last_modified.astimezone(UTC), usegmt=True)
    if found.body is None:
        FEED_FETCHES.labels("not_modified").inc()
        return web.Response(status=304, headers=headers)
    FEED_FETCHES.labels("full").inc()
    return web.Response(
        body=found.body, headers=headers, content_type="text/calendar", charset="utf-8"
    )


class ImportRequest(Strict):
    url: str = Field(
        min_length=8,
        max_length=2000,
        # As the handler checks it: an http(s) address with a host, so clients can tell.
        pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$",
        description="the calendar's published ICS URL (http or https)",
    )

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        parsed = URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError("must be an http or https address")
        return url


class ImportResponse(BaseModel):
    registered_at: datetime
    last_fetched_at: datetime | None
    last_result: str | None = Field(description="ok, not_modified, or why the last fetch failed")
    last_error: str | None
    last_good_at: datetime | None
    busy_intervals: int


async def _import_response(request: web.Request, adviser_id: str) -> web.Response:
    found = await show_import(booking(request).unit_of_work(), adviser_id)
    if found is None:
        raise not_found("calendar import")
    return json_response(
        ImportResponse(
            registered_at=found.created_at,
            last_fetched_at=found.last_fetched_at,
            last_result=found.last_result,
            last_error=found.last_error,
            last_good_at=found.last_good_at,
            busy_intervals=found.busy_count,
        ).model_dump(mode="json")
    )


@routes.put(
    "/api/v1/advisers/me/calendar-import",
    summary="Import my own calendar (its published ICS URL) as busy time",
    request=ImportRequest,
    responses={200: ImportResponse, 422: "Problem"},
    tags=("calendars",),
)
async def register_my_import(request: web.Request) -> web.Response:
    principal = require(request, Role.ADVISER)
    body = await read_model(request, ImportRequest)
    ctx = booking(request)
    await register_import(ctx.unit_of_work(), principal.user_id, body.url, ctx.clock())
    return await _import_response(request, principal.user_id)


@routes.get(
    "/api/v1/advisers/me/calendar-import",
    summary="My calendar import: the last fetch, its result and the busy intervals found",
    responses={200: ImportResponse, 404: "Problem"},
    tags=("calendars",),
)
async def my_import(request: web.Request) -> web.Response:
    principal = require(request, Role.ADVISER)
    return await _import_response(request, principal.user_id)


@routes.delete(
    "/api/v1/advisers/me/calendar-import",
    summary="Stop importing my calendar, and free the busy time it gave",
    responses={204: "Stopped", 404: "Problem"},
    tags=("calendars",),
)
async def stop_my_import(request: web.Request) -> web.Response:
    principal = require(request, Role.ADVISER)
    if not await stop_import(booking(request).unit_of_work(), principal.user_id):
        raise not_found("calendar import")
    return web.Response(status=204)
