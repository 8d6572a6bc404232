"""Contact routes that notifications could not deliver to, kept for the school's staff.

`notifications.contact.undeliverable` is kept per (person, route, channel), the newest report
winning, and dropped when booking's own `directory.student.erased` comes round.
"""

from __future__ import annotations

from services.booking.application.ports import ContactAlert, ContactAlertUnit
from shared.events import Event
from shared.events.directory import StudentErased
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
