"""What the dispatcher needs from the outside systems it drives, as ports.

The adapters implement them: `adapters/templates.py` words a message, `adapters/calendar.py`
writes the invitation an appointment email carries, `adapters/channels.py` hands a message to
Twilio or to an SMTP relay. A sender returns the provider's id for the message, or raises
`PermanentFailure` (the address will never work) or `TransientFailure` (try again later).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shared.events.notifications import UndeliverableReason


@dataclass(frozen=True)
class Rendered:
    """A message's words: the text, and for an email its subject and HTML part."""

    text: str
    subject: str | None = None
    html: str | None = None


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime: tuple[str, str]
    params: dict[str, str]


class PermanentFailure(Exception):
    """The provider says this address will never work."""

    def __init__(self, reason: UndeliverableReason, code: str) -> None:
        super().__init__(code)
        self.reason = reason
        self.code = code


class TransientFailure(Exception):
    """The provider could not take the message now; another attempt may succeed."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Wording(Protocol):
    def render(
        self, kind: str, channel: str, variant: str, context: dict[str, Any]
    ) -> Rendered: ...


class Invitations(Protocol):
    def __call__(
        self, context: dict[str, Any], *, method: str, organizer: str, attendee: str, now: datetime
    ) -> bytes: ...


class SmsSender(Protocol):
    async def send(
        self, to: str, rendered: Rendered, validity_seconds: int, reference: str
    ) -> str: ...


class EmailSender(Protocol):
    sender: str

    async def send(
        self, to: str, rendered: Rendered, attachments: tuple[Attachment, ...] = ()
    ) -> str: ...
