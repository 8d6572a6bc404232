"""Notifications' pages, all under `/notifications/` (a reverse proxy sends that prefix here).

A student chooses how they are contacted: text or email, and whether a parent or carer gets a
copy. The form reads and writes through the same functions as `/api/v1/me/contact-preferences`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from services.notifications.application.ports import Preferences as Chosen
from services.notifications.application.preferences import (
    ChoosePreferences,
    NoContactDetails,
    choose_preferences,
    preferences_of,
)
from services.notifications.entrypoints.context import NOTIFICATIONS
from services.notifications.entrypoints.messages_api import NO_DETAILS_YET, Preferences
from shared.auth.principal import Role
from shared.http.pages import render
from shared.http.site import page_principal, site

routes = web.RouteTableDef()
CHANNELS = {"": "As my school recorded", "sms": "Text message", "email": "Email"}
NOTICES = {"saved": "Your choices are saved."}


async def _stored(request: web.Request, owner_id: str) -> Chosen | None:
    try:
        async with request.app[NOTIFICATIONS].storage.reads() as reads:
            return await preferences_of(owner_id, reads)
    except NoContactDetails:
        return None


def _context(request: web.Request, values: Chosen | None, **extra: Any) -> dict[str, Any]:
    return {
        "values": values,
        "channels": CHANNELS,
        "no_details": NO_DETAILS_YET,
        "appointments_url": site(request).url("booking", "/my"),
        **extra,
    }


@routes.get("/notifications/my")
async def my_preferences(request: web.Request) -> web.Response:
    principal = page_principal(request, Role.STUDENT)
    values = await _stored(request, principal.user_id)
    notice = NOTICES.get(request.query.get("notice", ""))
    return render(request, "my_preferences.html", _context(request, values, notice=notice))


@routes.post("/notifications/my")
async def save_my_preferences(request: web.Request) -> web.StreamResponse:
    principal = page_principal(request, Role.STUDENT)
    stored = await _stored(request, principal.user_id)
    if stored is None:
        return render(request, "my_preferences.html", _context(request, None), status=404)
    form = await request.post()
    channel = str(form.get("channel", ""))
    if channel not in CHANNELS:
        error = "Choose how we should contact you."
        page = _context(request, stored, error=error)
        return render(request, "my_preferences.html", page, status=400)
    chosen = Preferences.model_validate(
        {
            "channel": channel or None,
            "parent_copy": form.get("parent_copy") == "yes",
            "opted_out": form.get("opted_out") == "yes",
        }
    )
    choice = ChoosePreferences(principal.user_id, Chosen(**chosen.model_dump()))
    try:
        await choose_preferences(choice, request.app[NOTIFICATIONS].storage.unit())
    except NoContactDetails:
        return render(request, "my_preferences.html", _context(request, None), status=404)
    raise web.HTTPSeeOther("/notifications/my?notice=saved")
