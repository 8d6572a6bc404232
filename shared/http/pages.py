"""Server-rendered pages: Jinja2 templates with one accessible base layout for every service.

Pages are plain HTML forms that work without JavaScript; they sign in with the session
cookie, and the authentication middleware refuses cookie-authenticated changes that do not
come from the same site.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

SHARED_TEMPLATES = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
PAGES = web.AppKey("pages", jinja2.Environment)
LONDON = ZoneInfo("Europe/London")


def local_day(day: date) -> str:
    """A local date as staff lists write it: 'Tue 12 Jan'."""
    return f"{day:%a} {day.day} {day:%b}"


def local_time(moment: datetime, zone: str | None = None, style: str = "long") -> str:
    """Times as people in English schools expect them: 'Tuesday 12 January, 10:00', or in
    staff lists 'Tue 12 Jan, 10:00' (`short`) and 'Tue 12 Jan' (`day`)."""
    local = moment.astimezone(ZoneInfo(zone) if zone else LONDON)
    if style == "time":
        return local.strftime("%H:%M")
    if style == "date":
        return f"{local:%A} {local.day} {local:%B}"
    if style == "day":
        return f"{local:%a} {local.day} {local:%b}"
    if style == "short":
        return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"
    return f"{local:%A} {local.day} {local:%B}, {local:%H:%M}"


def install_pages(app: web.Application, service_templates: Path, *, title: str) -> None:
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.FileSystemLoader(service_templates), jinja2.FileSystemLoader(SHARED_TEMPLATES)]
        ),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["local_time"] = local_time
    environment.filters["local_day"] = local_day
    environment.globals["service_title"] = title
    app[PAGES] = environment
    app.router.add_static("/static/", STATIC_DIR, name="static")


def render(
    request: web.Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    environment = request.app[PAGES]
    html = environment.get_template(template).render(request=request, **(context or {}))
    response = web.Response(text=html, status=status, content_type="text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response
