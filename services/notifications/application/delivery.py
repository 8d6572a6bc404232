"""What the provider tells us afterwards: delivery status callbacks and inbound replies."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.adapters.channels import TWILIO_PERMANENT
from services.notifications.adapters.orm import contact_owners, contacts, messages
from services.notifications.metrics import MESSAGES_DELIVERED, MESSAGES_FAILED
from shared.events import Envelope, EventPayload
from shared.events.directory import Channel
from shared.events.notifications import ContactUndeliverable, MessageStatusChanged
from shared.messaging.outbox import record

# Twilio's statuses, in the order a message moves through them.
PROGRESS = ("accepted", "queued", "sending", "sent", "delivered", "undelivered", "failed")
FINAL_FAILURES = {"undelivered", "failed"}


def _emit(payload: EventPayload, key: str) -> Envelope:
    return Envelope.wrap(payload, key=key, producer="notifications")


async def record_status(
    session: AsyncSession,
    message_id: str | None,
    provider_id: str,
    status: str,
    error_code: str | None,
    now: datetime,
) -> bool:
    """Store a status callback and publish it; False when it matches no message.

    A callback can arrive before the dispatcher has recorded the hand-over (the row still
    `sending`): then only the provider's status is stored, and the dispatcher's record
    takes it into account."""
    which = messages.c.id == message_id if message_id else messages.c.provider_id == provider_id
    row = (
        await session.execute(
            sa.select(
                messages.c.id,
                messages.c.kind,
                messages.c.channel,
                messages.c.school_id,
                messages.c.owner_id,
                messages.c.route,
                messages.c.provider_status,
                messages.c.status,
            ).where(which)
        )
    ).first()
    if row is None:
        return False
    if status not in PROGRESS or (
        row.provider_status in PROGRESS
        and PROGRESS.index(status) <= PROGRESS.index(row.provider_status)
    ):
        return True  # a callback overtaken by a later one changes nothing
    values: dict[str, object] = {"provider_status": status, "updated_at": now}
    settled = row.status != "sending"
    if status == "delivered":
        values.update({"status": "delivered"} if settled else {})
        MESSAGES_DELIVERED.labels(row.channel, row.kind).inc()
    elif status in FINAL_FAILURES:
        values.update({"status": "failed"} if settled else {})
        values["error"] = f"twilio-{error_code}" if error_code else status
        MESSAGES_FAILED.labels(row.channel, row.kind).inc()
    await session.execute(messages.update().where(messages.c.id == row.id).values(**values))
    await record(
        session,
        _emit(
            MessageStatusChanged(
                message_id=row.id,
                kind=row.kind,
                channel=Channel(row.channel),
                status=status,
                school_id=row.school_id,
                error_code=error_code,
            ),
            key=row.id,
        ),
    )
    reason = TWILIO_PERMANENT.get(int(error_code)) if error_code and error_code.isdigit() else None
    if status in FINAL_FAILURES and reason is not None and row.owner_id is not None:
        await session.execute(
            contacts.update()
            .where(contacts.c.owner_id == row.owner_id, contacts.c.route == row.route)
            .values(sms_undeliverable=reason.value)
        )
        owner = (
            await session.execute(
                sa.select(contact_owners.c.kind, contacts.c.role)
                .join(contacts, contacts.c.owner_id == contact_owners.c.owner_id)
                .where(contacts.c.owner_id == row.owner_id, contacts.c.route == row.route)
            )
        ).first()
        if owner is not None and row.route is not None:
            await record(
                session,
                _emit(
                    ContactUndeliverable(
                        owner_id=row.owner_id,
                        owner_kind=owner.kind,
                        school_id=row.school_id,
                        role=owner.role,
                        route=row.route,
                        channel=Channel.SMS,
                        reason=reason,
                    ),
                    key=row.owner_id,
                ),
            )
    return True
