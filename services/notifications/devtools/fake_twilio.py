"""A fake SMS provider that speaks the part of Twilio's REST API Signpost uses.

`POST /2010-04-01/Accounts/{sid}/Messages.json` checks the account's basic auth, accepts the
message (or refuses it as Twilio would: an invalid number with 21211, a number that replied
STOP with 21610, more than `per_second` in a second with 429/20429), answers with a Message
resource and then posts signed status callbacks (`sent`, then `delivered` or `undelivered`)
to the message's StatusCallback. `GET /_fake/messages` lists what it received.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

# Numbers that behave badly on purpose (in the +44 7700 900xxx range Ofcom keeps for drama).
INVALID_NUMBER = "+447700900999"
UNSUBSCRIBED_NUMBER = "+447700900998"
UNREACHABLE_NUMBER = "+447700900997"  # accepted, then undelivered with 30003


@dataclass
class FakeTwilio:
    account_sid: str
    auth_token: str
    per_second: float | None = None
    callback_delay: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)
    callbacks: list[tuple[str, int]] = field(default_factory=list)
    fail_next: int = 0  # answer the next N requests with 503, as an outage would
    send_callbacks: bool = True
    _window: list[float] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _session: aiohttp.ClientSession | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._create)
        app.router.add_get("/_fake/messages", self._list)
        app.on_shutdown.append(self._drain)
        return app

    async def _drain(self, _app: web.Application) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._session is not None:
            await self._session.close()

    def _authorised(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    async def _create(self, request: web.Request) -> web.Response:
        if request.match_info["sid"] != self.account_sid or not self._authorised(request):
            return _error(401, 20003, "Authenticate")
        if self.fail_next > 0:
            self.fail_next -= 1
            return _error(503, 20500, "Service unavailable")
        if self.per_second is not None and not self._admit():
            return _error(429, 20429, "Too Many Requests")
        form = {k: str(v) for k, v in (await request.post()).items()}
        to = form.get("To", "")
        if to == INVALID_NUMBER or not to.startswith("+"):
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to == UNSUBSCRIBED_NUMBER:
            return _error(400, 21610, "Attempt to send to unsubscribed recipient")
        sid = "SM" + uuid.uuid4().hex
        message = {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": to,
            "from": form.get("From"),
            "body": form.get("Body", ""),
            "status": "queued",
            "validity_period": form.get("ValidityPeriod"),
            "status_callback": form.get("StatusCallback"),
            "received_at": time.time(),
            "num_segments": "1",
            "direction": "outbound-api",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        self.received.append(message)
        if message["status_callback"] and self.send_callbacks:
            task = asyncio.create_task(self._call_back(message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return web.json_response(message, status=201)

    def _admit(self) -> bool:
        now = time.monotonic()
        self._window = [t for t in self._window if now - t < 1.0]
        if len(self._window) >= (self.per_second or 0):
            return False
        self._window.append(now)
        return True

    async def _call_back(self, message: dict[str, Any]) -> None:
        final = "undelivered" if message["to"] == UNREACHABLE_NUMBER else "delivered"
        for status in ("sent", final):
            if self.callback_delay:
                await asyncio.sleep(self.callback_delay)
            params = {
                "MessageSid": message["sid"],
                "MessageStatus": status,
                "AccountSid": self.account_sid,
                "To": message["to"],
                "From": message["from"] or "",
            }
            if status == "undelivered":
                params["ErrorCode"] = "30003"
            await self.post_signed(message["status_callback"], params)

    async def post_signed(self, url: str, params: dict[str, str]) -> int:
        """Post form `params` to `url` signed as Twilio signs its webhooks."""
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.post(
                url, data=params, headers={"X-Twilio-Signature": signature}
            ) as r:
                self.callbacks.append((params.get("MessageStatus", "inbound"), r.status))
                return r.status
        except aiohttp.ClientError:
            self.callbacks.append((params.get("MessageStatus", "inbound"), 0))
            return 0

    async def _list(self, _request: web.Request) -> web.Response:
        return web.json_response({"messages": self.received})


def _error(status: int, code: int, message: str) -> web.Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return web.json_response(body, status=status)
