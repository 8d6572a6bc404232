"""Contact routes that notifications could not deliver to, kept for the school's staff.

`notifications.contact.undeliverable` is kept per (person, route, channel), the newest report
winning; dropped when booking's own `directory.student.erased` comes round, when the school
sends the person's contact details again changed, or when its staff dismiss it.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.booking.application.ports import (
    ContactAlert,
    ContactAlertTransaction,
    ContactAlertUnit,
)
from shared.events import Event
from shared.events.directory import Channel, ContactChecked, StudentErased
from shared.events.notifications import ContactUndeliverable


async def record_alert(event: Event[ContactUndeliverable], uow: ContactAlertUnit) -> None:
    report = event.payload
    await uow.contact_alerts.keep(
        ContactAlert(
            owner_id=report.owner_id,
            owner_kind=report.owner_kind,
            role=report.role,
            route=report.route,
            channel=str(report.channel),
            reason=str(report.reason),
            school_id=report.school_id,
            reported_at=event.envelope.occurred_at,
        )
    )


async def forget_student(event: Event[StudentErased], uow: ContactAlertUnit) -> None:
    await uow.contact_alerts.forget_owner(event.payload.student_id)


@dataclass(frozen=True)
class DismissAlert:
    school_id: str
    owner_id: str
    route: int
    channel: str


async def dismiss_alert(cmd: DismissAlert, uow: ContactAlertTransaction) -> bool:
    """The school's staff have checked the route: the alert goes, and notifications is told to
    try the route again (`directory.contact.checked`), so a new failure brings the alert back.
    False when the school had no such alert."""
    async with uow:
        found = await uow.contact_alerts.dismiss(
            cmd.school_id, cmd.owner_id, cmd.route, cmd.channel
        )
        if found:
            checked = ContactChecked(
                owner_id=cmd.owner_id, route=cmd.route, channel=Channel(cmd.channel)
            )
            await uow.emit(checked, key=cmd.owner_id)
        await uow.commit()
    return found
