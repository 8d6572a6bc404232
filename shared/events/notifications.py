"""Events notifications publishes on `notifications.events`: delivery outcomes.

They carry ids and codes only: never an address, a name or a message body.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from shared.events.directory import Channel
from shared.events.envelope import EventPayload


class UndeliverableReason(StrEnum):
    INVALID_ADDRESS = "invalid_address"
    UNSUBSCRIBED = "unsubscribed"
    UNREACHABLE = "unreachable"


class ContactUndeliverable(EventPayload):
    """A contact route failed for good: the school's staff should check it with the family.

    `owner_id` is the student, member of staff, adviser or employer the route belongs to;
    `route` is the route's position in the owner's contact list (as `directory.events` gave it).
    """

    event_type = "notifications.contact.undeliverable"

    owner_id: str
    owner_kind: str = Field(pattern=r"^(student|staff|adviser|employer)$")
    school_id: str | None = None
    role: str
    route: int = Field(ge=0)
    channel: Channel
    reason: UndeliverableReason


class MessageStatusChanged(EventPayload):
    """What the provider last said about one message (queued, sent, delivered, failed...)."""

    event_type = "notifications.message.status_changed"

    message_id: str
    kind: str
    channel: Channel
    status: str
    school_id: str | None = None
    error_code: str | None = None
