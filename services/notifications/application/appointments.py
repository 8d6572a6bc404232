"""Keep reminders in step with appointments: scheduled, moved and cancelled with them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.adapters.orm import appointments, reminders
from services.notifications.domain.reminders import ReminderPolicy, plan_reminders
from shared.events import Envelope
from shared.events.booking import (
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentRescheduled,
)

AppointmentChange = AppointmentConfirmed | AppointmentRescheduled | AppointmentCancelled


class ReminderPlanner:
    """Event handler: the reminders an appointment needs, replanned on every revision."""

    def __init__(self, policy: ReminderPolicy | None = None) -> None:
        self._policy = policy or ReminderPolicy()

    async def __call__(
        self, session: AsyncSession, envelope: Envelope, event: AppointmentChange
    ) -> None:
        current = await session.scalar(
            sa.select(appointments.c.revision).where(appointments.c.id == event.appointment_id)
        )
        if current is not None and current >= event.revision:
            return  # an older revision arriving late changes nothing
        status = "cancelled" if isinstance(event, AppointmentCancelled) else "confirmed"
        values = {
            "revision": event.revision,
            "school_id": event.school_id,
            "student_id": event.student_id,
            "starts_at": event.starts_at,
            "ends_at": event.ends_at,
            "time_zone": event.time_zone,
            "location": event.location,
            "status": status,
        }
        if current is None:
            await session.execute(appointments.insert().values(id=event.appointment_id, **values))
        else:
            await session.execute(
                appointments.update()
                .where(appointments.c.id == event.appointment_id)
                .values(**values)
            )
        now = datetime.now(UTC)
        await session.execute(
            reminders.update()
            .where(
                reminders.c.appointment_id == event.appointment_id,
                reminders.c.status == "scheduled",
            )
            .values(status="cancelled", updated_at=now)
        )
        if status != "confirmed":
            return
        plan = plan_reminders(event.starts_at, now, ZoneInfo(event.time_zone), self._policy)
        if plan:
            await session.execute(
                reminders.insert(),
                [
                    {
                        "id": str(uuid.uuid4()),
                        "appointment_id": event.appointment_id,
                        "appointment_revision": event.revision,
                        "kind": p.kind,
                        "due_at": p.due_at,
                        "status": "scheduled",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for p in plan
                ],
            )
