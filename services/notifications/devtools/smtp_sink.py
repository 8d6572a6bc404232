"""An SMTP server (aiosmtpd) on loopback that keeps every message it is sent.

Recipients at `refused.example` are refused with 550, as a mail relay refuses an unknown
mailbox. With a directory, each message is also written there as an `.eml` file.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

REFUSED_DOMAIN = "refused.example"


@dataclass
class SinkHandler:
    directory: Path | None = None
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.lower().endswith("@" + REFUSED_DOMAIN):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            (self.directory / f"{len(self.messages):06d}.eml").write_bytes(envelope.content)
        return "250 Message accepted"


def start_sink(port: int, directory: Path | None = None) -> tuple[Controller, SinkHandler]:
    handler = SinkHandler(directory)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, handler
