"""What the provider tells us afterwards: delivery status callbacks."""

from __future__ import annotations

from dataclasses import dataclass

from services.notifications.application.ports import NotificationsUnit
from services.notifications.metrics import MESSAGES_DELIVERED, MESSAGES_FAILED
from shared.events.directory import Channel
from shared.events.notifications import (
    ContactUndeliverable,
    MessageStatusChanged,
    UndeliverableReason,
)

# Twilio's statuses, in the order a message moves through them.
PROGRESS = ("accepted", "queued", "sending", "sent", "delivered", "undelivered", "failed")
FINAL_FAILURES = {"undelivered", "failed"}


@dataclass(frozen=True)
class StatusCallback:
    """The provider's word on a message: ours (`message_id`, when the callback carries it)
    or the provider's id for it, its status and any error code; and, when the code means
    the route will never work, why (`permanent`)."""

    message_id: str | None
    provider_id: str
    status: str
    error_code: str | None
    permanent: UndeliverableReason | None = None


async def record_status(cmd: StatusCallback, uow: NotificationsUnit) -> bool:
    """Store a status callback and publish it; False when it matches no message.

    A callback can arrive before the dispatcher has recorded the hand-over (the row still
    `sending`): then only the provider's status is stored, and the dispatcher's record
    takes it into account."""
    status, error_code = cmd.status, cmd.error_code
    async with uow:
        row = await uow.messages.sent(message_id=cmd.message_id, provider_id=cmd.provider_id)
        if row is None:
            return False
        if status not in PROGRESS or (
            row.provider_status in PROGRESS
            and PROGRESS.index(status) <= PROGRESS.index(row.provider_status)
        ):
            return True  # a callback overtaken by a later one changes nothing
        values: dict[str, object] = {}
        settled = row.status != "sending"
        if status == "delivered":
            values.update({"status": "delivered"} if settled else {})
            MESSAGES_DELIVERED.labels(row.channel, row.kind).inc()
        elif status in FINAL_FAILURES:
            values.update({"status": "failed"} if settled else {})
            values["error"] = f"twilio-{error_code}" if error_code else status
            MESSAGES_FAILED.labels(row.channel, row.kind).inc()
        await uow.messages.record_provider_status(
            row.id, uow.now(), provider_status=status, **values
        )
        await uow.emit(
            MessageStatusChanged(
                message_id=row.id,
                kind=row.kind,
                channel=Channel(row.channel),
                status=status,
                school_id=row.school_id,
                error_code=error_code,
            ),
            key=row.id,
        )
        reason = cmd.permanent
        if status in FINAL_FAILURES and reason is not None and row.owner_id is not None:
            await _undeliverable(uow, row.owner_id, row.route, row.school_id, reason)
        await uow.commit()
    return True


async def _undeliverable(
    uow: NotificationsUnit,
    owner_id: str,
    route: int | None,
    school_id: str | None,
    reason: UndeliverableReason,
) -> None:
    if route is None:
        return
    marked = await uow.contacts.mark_undeliverable(owner_id, route, "sms", reason.value)
    owner = await uow.contacts.owner(owner_id)
    if marked is None or owner is None:
        return
    await uow.emit(
        ContactUndeliverable(
            owner_id=owner_id,
            owner_kind=owner.kind,
            school_id=school_id,
            role=marked.details.role,
            route=route,
            channel=Channel.SMS,
            reason=reason,
        ),
        key=owner_id,
    )
