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
        await uow.contacts.lock_owner(event.student_id)  # in turn with their contact details
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
        notice = {
            AppointmentConfirmed: Kind.CONFIRMATION,
            AppointmentRescheduled: Kind.RESCHEDULED,
            AppointmentCancelled: Kind.CANCELLED,
        }[type(event)]
        await plan_appointment_messages(self._planner, uow, copy, notice, plan)

    async def catch_up(self, student_id: str, uow: NotificationsEvents) -> None:
        """The messages of the student's upcoming appointments, for a student whose contact
        details arrive after the appointments did: a confirmation of each as it now stands
        and the reminders still scheduled for it. Messages already written are not written
        again (their identity is the same)."""
        for copy, plan in await uow.appointments.upcoming_of(student_id, uow.now()):
            await plan_appointment_messages(self._planner, uow, copy, Kind.CONFIRMATION, plan)


async def plan_appointment_messages(
    planner: Planner,
    uow: NotificationsEvents,
    copy: AppointmentCopy,
    notice: Kind,
    reminders: list[PlannedReminder],
) -> None:
    """The notice of the appointment's revision and the messages carrying its reminders."""
    context = {
        "appointment_id": copy.id,
        "revision": copy.revision,
        "starts_at": copy.starts_at.isoformat(),
        "ends_at": copy.ends_at.isoformat(),
        "location": copy.location,
        "time_zone": copy.time_zone,
    }

    async def plan(kind: Kind, source: str, due_at: datetime | None) -> None:
        await planner.plan(
            uow,
            kind=kind,
            source=source,
            audience=Audience(copy.student_id),
            due_at=due_at,
            expires_at=copy.starts_at,
            context=context,
            student_id=copy.student_id,
            appointment_id=copy.id,
        )

    await plan(
        notice,
        f"appointment:{copy.id}:r{copy.revision}",
        planner.at_once(uow.now(), copy.starts_at, copy.time_zone),
    )
    moment = copy.starts_at.isoformat()
    for reminder in reminders:
        await plan(
            REMINDER_KINDS[reminder.kind], f"appointment:{copy.id}@{moment}", reminder.due_at
        )
