"""`/dev/outbox`: every message the service has handed over, for a developer to read.

Development only: the composition root never adds this route in production.
"""

from __future__ import annotations

from html import escape

from aiohttp import web

from services.notifications.entrypoints.context import NOTIFICATIONS

routes = web.RouteTableDef()


@routes.get("/dev/outbox")
async def outbox(request: web.Request) -> web.Response:
    async with request.app[NOTIFICATIONS].storage.reads() as reads:
        rows = await reads.log.latest(200)
    cells = "".join(
        "<tr>"
        + "".join(f"<td>{escape(str(v)) if v is not None else ''}</td>" for v in row)
        + "</tr>"
        for row in rows
    )
    head = "".join(
        f"<th>{h}</th>"
        for h in ("handed", "due", "kind", "channel", "variant", "status", "provider", "to", "text")
    )
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Outbox</title>"
        "</head><body><h1>Messages (development only)</h1>"
        f"<table border='1' cellpadding='4'><tr>{head}</tr>{cells}</table></body></html>"
    )
    return web.Response(text=page, content_type="text/html")
