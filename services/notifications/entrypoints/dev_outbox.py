"""`/dev/outbox`: every message the service has handed over, for a developer to read.

Development only: the composition root never adds this route in production.
"""

from __future__ import annotations

from html import escape

import sqlalchemy as sa
from aiohttp import web

from services.notifications.adapters.orm import contacts, messages
from services.notifications.entrypoints.context import NOTIFICATIONS

routes = web.RouteTableDef()


@routes.get("/dev/outbox")
async def outbox(request: web.Request) -> web.Response:
    async with request.app[NOTIFICATIONS].db.read_session() as s:
        rows = (
            await s.execute(
                sa.select(
                    messages.c.handed_at,
                    messages.c.due_at,
                    messages.c.kind,
                    messages.c.channel,
                    messages.c.variant,
                    messages.c.status,
                    messages.c.provider_status,
                    contacts.c.role,
                    messages.c.body,
                )
                .select_from(
                    messages.outerjoin(
                        contacts,
                        sa.and_(
                            contacts.c.owner_id == messages.c.owner_id,
                            contacts.c.route == messages.c.route,
                        ),
                    )
                )
                .order_by(messages.c.due_at.desc())
                .limit(200)
            )
        ).all()
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
