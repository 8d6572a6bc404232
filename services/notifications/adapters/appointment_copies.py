"""Notifications' copies of booking's appointments and the reminders planned for them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.adapters.orm import appointments, reminders
from services.notifications.application.ports import AppointmentCopy
from services.notifications.domain.reminders import PlannedReminder


class AppointmentCopyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def revision_of(self, appointment_id: str) -> int | None:
        found = await self._session.scalar(
            sa.select(appointments.c.revision).where(appointments.c.id == appointment_id)
        )
        return None if found is None else int(found)

    async def save(self, copy: AppointmentCopy, *, new: bool) -> None:
        values = {
            "revision": copy.revision,
            "school_id": copy.school_id,
            "student_id": copy.student_id,
            "starts_at": copy.starts_at,
            "ends_at": copy.ends_at,
            "time_zone": copy.time_zone,
            "location": copy.location,
            "status": copy.status,
        }
        if new:
            await self._session.execute(appointments.insert().values(id=copy.id, **values))
        else:
            await self._session.execute(
                appointments.update().where(appointments.c.id == copy.id).values(**values)
            )

    async def replan_reminders(
        self, appointment_id: str, revision: int, plan: Sequence[PlannedReminder], now: datetime
    ) -> None:
        await self._session.execute(
            reminders.update()
            .where(reminders.c.appointment_id == appointment_id, reminders.c.status == "scheduled")
            .values(status="cancelled", updated_at=now)
        )
        if not plan:
            return
        await self._session.execute(
            reminders.insert(),
            [
                {
                    "id": str(uuid.uuid4()),
                    "appointment_id": appointment_id,
                    "appointment_revision": revision,
                    "kind": p.kind,
                    "due_at": p.due_at,
                    "status": "scheduled",
                    "created_at": now,
                    "updated_at": now,
                }
                for p in plan
            ],
        )

    async def forget_student(self, student_id: str) -> None:
        owned = sa.select(appointments.c.id).where(appointments.c.student_id == student_id)
        await self._session.execute(reminders.delete().where(reminders.c.appointment_id.in_(owned)))
        await self._session.execute(
            appointments.delete().where(appointments.c.student_id == student_id)
        )

    async def upcoming_of(
        self, student_id: str, now: datetime
    ) -> list[tuple[AppointmentCopy, list[PlannedReminder]]]:
        rows = (
            await self._session.execute(
                sa.select(appointments)
                .where(
                    appointments.c.student_id == student_id,
                    appointments.c.status == "confirmed",
                    appointments.c.starts_at > now,
                )
                .order_by(appointments.c.starts_at, appointments.c.id)
            )
        ).all()
        if not rows:
            return []
        due = (
            await self._session.execute(
                sa.select(reminders.c.appointment_id, reminders.c.kind, reminders.c.due_at)
                .where(
                    reminders.c.appointment_id.in_([r.id for r in rows]),
                    reminders.c.status == "scheduled",
                    reminders.c.due_at > now,
                )
                .order_by(reminders.c.due_at)
            )
        ).all()
        plans: dict[str, list[PlannedReminder]] = {}
        for r in due:
            plans.setdefault(r.appointment_id, []).append(PlannedReminder(r.kind, r.due_at))
        return [
            (
                AppointmentCopy(
                    id=r.id,
                    revision=r.revision,
                    school_id=r.school_id,
                    student_id=r.student_id,
                    starts_at=r.starts_at,
                    ends_at=r.ends_at,
                    time_zone=r.time_zone,
                    location=r.location,
                    status=r.status,
                ),
                plans.get(r.id, []),
            )
            for r in rows
        ]
