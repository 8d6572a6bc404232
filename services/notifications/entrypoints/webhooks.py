"""Twilio's webhooks: delivery status callbacks and inbound replies (STOP, START, HELP).

Both are public paths, so each request must carry a valid `X-Twilio-Signature` computed
over the externally visible URL (`NOTIFICATIONS_PUBLIC_URL` plus the path) and the form
parameters; anything else gets 403 and changes nothing.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from aiohttp import web
from twilio.request_validator import RequestValidator

from services.notifications.adapters.channels import TWILIO_PERMANENT
from services.notifications.application.delivery import StatusCallback, record_status
from services.notifications.application.preferences import (
    StartSms,
    StopSms,
    keyword,
    start_sms,
    stop_sms,
)
from services.notifications.entrypoints.api import routes
from services.notifications.entrypoints.context import NOTIFICATIONS
from shared.http.problems import Problem
from shared.logging import get_logger

log = get_logger(__name__)

STATUS_PATH = "/api/v1/twilio/status"
INBOUND_PATH = "/api/v1/twilio/inbound"
HELP_REPLY = (
    "Signpost careers messages from your school. Reply STOP to stop them, START to start "
    "again. For anything else, speak to your school's careers coordinator."
)


async def _verified_form(request: web.Request) -> dict[str, str]:
    ctx = request.app[NOTIFICATIONS]
    try:
        posted = await request.post()
    except ValueError as exc:  # a multipart type without its boundary, say
        raise Problem(
            400, "Bad request", "The body is not a form as Twilio sends it.", type_="bad-form"
        ) from exc
    form = {k: str(v) for k, v in posted.items()}
    signature = request.headers.get("X-Twilio-Signature", "")
    url = ctx.settings.callback_url + request.path_qs
    if not signature or not RequestValidator(ctx.settings.twilio_auth_token).validate(
        url, form, signature
    ):
        log.warning("twilio.signature_refused", path=request.path)
        raise Problem(
            403,
            "Forbidden",
            "The request is not signed by Twilio for this address (X-Twilio-Signature).",
            type_="bad-signature",
        )
    return form


def _twiml(message: str | None = None) -> web.Response:
    inner = f"<Message>{escape(message)}</Message>" if message else ""
    return web.Response(
        text=f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>',
        content_type="text/xml",
    )


@routes.post(
    STATUS_PATH,
    summary="Twilio's delivery status callback (signed)",
    responses={204: "Stored", 400: "Not a form", 403: "Not signed by Twilio"},
    tags=("webhooks",),
    public=True,
)
async def status_callback(request: web.Request) -> web.Response:
    form = await _verified_form(request)
    sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")
    if not sid or not status:
        raise Problem(400, "Bad request", "MessageSid and MessageStatus are required.")
    code = form.get("ErrorCode") or None
    callback = StatusCallback(
        message_id=request.query.get("message"),
        provider_id=sid,
        status=status,
        error_code=code,
        permanent=TWILIO_PERMANENT.get(int(code)) if code and code.isdigit() else None,
    )
    await record_status(callback, request.app[NOTIFICATIONS].storage.unit())
    return web.Response(status=204)


@routes.post(
    INBOUND_PATH,
    summary="An SMS reply from a recipient (STOP, START, HELP), signed by Twilio",
    responses={200: "TwiML", 400: "Not a form", 403: "Not signed by Twilio"},
    tags=("webhooks",),
    public=True,
)
async def inbound(request: web.Request) -> web.Response:
    form = await _verified_form(request)
    phone, word = form.get("From", ""), keyword(form.get("Body", ""))
    ctx = request.app[NOTIFICATIONS]
    if word == "stop" and phone:
        withdrawn = await stop_sms(StopSms(phone), ctx.storage.unit())
        log.info("sms.opted_out", withdrawn=withdrawn)
    elif word == "start" and phone:
        await start_sms(StartSms(phone), ctx.storage.unit())
        log.info("sms.opted_in")
    elif word == "help":
        return _twiml(HELP_REPLY)
    return _twiml()
