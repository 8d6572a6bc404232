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
from pydantic import BaseModel

from services.booking.adapters.ics import render_feed
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
from shared.http.body import json_response
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
