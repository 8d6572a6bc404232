"""The providers a message is handed to: Twilio for SMS, an SMTP relay for email.

Each sender returns the provider's id for the message, or raises `PermanentFailure` (the
address will never work: invalid, unsubscribed, unreachable) or `TransientFailure` (try
again later). No sender logs an address or a body.
"""

from __future__ import annotations

import asyncio
import logging
from email.message import EmailMessage
from email.utils import make_msgid

import aiohttp
import aiosmtplib
from aiolimiter import AsyncLimiter
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from services.notifications.application.sending import (
    Attachment,
    PermanentFailure,
    Rendered,
    TransientFailure,
)
from shared.events.notifications import UndeliverableReason

# Twilio error codes that mean this number will not work however often we try.
TWILIO_PERMANENT = {
    21211: UndeliverableReason.INVALID_ADDRESS,  # invalid 'To' number
    21214: UndeliverableReason.INVALID_ADDRESS,  # 'To' number cannot be reached
    21614: UndeliverableReason.INVALID_ADDRESS,  # not a mobile number
    21610: UndeliverableReason.UNSUBSCRIBED,  # the recipient replied STOP
    30003: UndeliverableReason.UNREACHABLE,
    30005: UndeliverableReason.INVALID_ADDRESS,  # unknown destination handset
    30006: UndeliverableReason.INVALID_ADDRESS,  # landline or unreachable carrier
    30004: UndeliverableReason.UNSUBSCRIBED,  # message blocked by the recipient
}


# The SDK logs every request at INFO; only its warnings are worth a line.
_SDK_LOG = logging.getLogger("twilio.http")
_SDK_LOG.setLevel(logging.WARNING)


class TwilioSms:
    """SMS through the official SDK's async client; `base_url` points it at a fake in tests."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        sender: str,
        status_callback: str,
        base_url: str = "",
        per_second: float = 100.0,
    ) -> None:
        self._args = (account_sid, auth_token)
        self._sender = sender
        self._status_callback = status_callback
        self._base_url = base_url
        self._limiter = AsyncLimiter(max(1.0, per_second), 1.0)
        self._client: Client | None = None
        self._http: AsyncTwilioHttpClient | None = None

    def _connect(self) -> Client:
        if self._client is None:
            self._http = AsyncTwilioHttpClient(timeout=10, logger=_SDK_LOG)
            self._client = Client(*self._args, http_client=self._http)
            if self._base_url:
                self._client.api.base_url = self._base_url
        return self._client

    async def send(self, to: str, rendered: Rendered, validity_seconds: int, reference: str) -> str:
        """Hand over one SMS; its status callbacks name `reference` (our message id), so one
        that overtakes our record of Twilio's id still finds its message."""
        client = self._connect()
        async with self._limiter:
            try:
                message = await client.messages.create_async(
                    to=to,
                    from_=self._sender,
                    body=rendered.text,
                    status_callback=f"{self._status_callback}?message={reference}",
                    validity_period=validity_seconds,
                )
            except TwilioRestException as exc:
                reason = TWILIO_PERMANENT.get(int(exc.code or 0))
                if reason is not None:
                    raise PermanentFailure(reason, f"twilio-{exc.code}") from None
                raise TransientFailure(f"twilio-{exc.code or exc.status}") from None
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise TransientFailure(type(exc).__name__) from None
        return str(message.sid)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()


class SmtpEmail:
    """Email through an SMTP relay with aiosmtplib: plain text, HTML and attachments."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str = "",
        password: str = "",
        starttls: bool = False,
        concurrency: int = 10,
    ) -> None:
        self._host, self._port = host, port
        self.sender = sender
        self._login = (username, password) if username else None
        self._starttls = starttls
        self._slots = asyncio.Semaphore(concurrency)

    async def send(
        self, to: str, rendered: Rendered, attachments: tuple[Attachment, ...] = ()
    ) -> str:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = to
        email["Subject"] = rendered.subject or "Careers guidance"
        email["Message-ID"] = message_id = make_msgid(domain="signpost.example")
        email.set_content(rendered.text)
        if rendered.html:
            email.add_alternative(rendered.html, subtype="html")
        for item in attachments:
            email.add_attachment(
                item.content,
                maintype=item.mime[0],
                subtype=item.mime[1],
                filename=item.filename,
                params=item.params,
            )
        async with self._slots:
            try:
                await aiosmtplib.send(
                    email,
                    hostname=self._host,
                    port=self._port,
                    username=self._login[0] if self._login else None,
                    password=self._login[1] if self._login else None,
                    start_tls=self._starttls,
                    timeout=20,
                )
            except aiosmtplib.SMTPRecipientsRefused:
                raise PermanentFailure(UndeliverableReason.INVALID_ADDRESS, "smtp-550") from None
            except aiosmtplib.SMTPResponseException as exc:
                # Only a refused recipient says the address is wrong; anything else may be
                # the relay's own trouble, so it is retried (and ends as failed, not blamed).
                raise TransientFailure(f"smtp-{exc.code}") from None
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                raise TransientFailure(type(exc).__name__) from None
        return message_id.strip("<>")
