"""Keep reminders and messages in step with appointments: planned, moved and cancelled with
them. An older revision arriving late changes nothing."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from services.notifications.application.planning import Audience, Planner
from services.notifications.application.ports import AppointmentCopy, NotificationsEvents
from services.notifications.domain.messages import REMINDER_KINDS, Kind
from services.notifications.domain.reminders import PlannedReminder, plan_reminders
from shared.events import Event
from shared.events.booking import (
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentRescheduled,
)

AppointmentChange = AppointmentConfirmed | AppointmentRescheduled | AppointmentCancelled


class ReminderPlanner:
    """Event handler: the reminders an appointment needs, replanned on every revision, and
    the messages that carry them (with the confirmation, moved and cancelled notices)."""

    def __init__(self, planner: Planner) -> None:
        self._planner = planner
        self._policy = planner.quiet

    async def __call__(self, change: Event[AppointmentChange], uow: NotificationsEvents) -> None:
        event = change.payload
        current = await uow.appointments.revision_of(event.appointment_id)
        if current is not None and current >= event.revision:
            return  # an older revision arriving late changes nothing
        status = "cancelled" if isinstance(event, AppointmentCancelled) else "confirmed"
        copy = AppointmentCopy(
            id=event.appointment_id,
            revision=event.revision,
            school_id=event.school_id,
            student_id=event.student_id,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            time_zone=event.time_zone,
            location=event.location,
            status=status,
        )
        await uow.appointments.save(copy, new=current is None)
        now = uow.now()
        plan = []
        if status == "confirmed":
            plan = plan_reminders(event.starts_at, now, ZoneInfo(event.time_zone), self._policy)
        await uow.appointments.replan_reminders(event.appointment_id, event.revision, plan, now)
        # Whatever was still waiting is about the old time (or a cancelled appointment).
        await uow.messages.cancel_pending(now, appointment_id=event.appointment_id)
        await self._messages(uow, event, plan)

    async def _messages(
        self, uow: NotificationsEvents, event: AppointmentChange, plan_: list[PlannedReminder]
    ) -> None:
        context = {
            "appointment_id": event.appointment_id,
            "revision": event.revision,
            "starts_at": event.starts_at.isoformat(),
            "ends_at": event.ends_at.isoformat(),
            "location": event.location,
            "time_zone": event.time_zone,
        }
        notice = {
            AppointmentConfirmed: Kind.CONFIRMATION,
            AppointmentRescheduled: Kind.RESCHEDULED,
            AppointmentCancelled: Kind.CANCELLED,
        }[type(event)]

        async def plan(kind: Kind, source: str, due_at: datetime | None) -> None:
            await self._planner.plan(
                uow,
                kind=kind,
                source=source,
                audience=Audience(event.student_id),
                due_at=due_at,
                expires_at=event.starts_at,
                context=context,
                student_id=event.student_id,
                appointment_id=event.appointment_id,
            )

        await plan(
            notice,
            f"appointment:{event.appointment_id}:r{event.revision}",
            self._planner.at_once(uow.now(), event.starts_at, event.time_zone),
        )
        moment = event.starts_at.isoformat()
        for reminder in plan_:
            await plan(
                REMINDER_KINDS[reminder.kind],
                f"appointment:{event.appointment_id}@{moment}",
                reminder.due_at,
            )
