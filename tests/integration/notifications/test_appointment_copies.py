"""Notifications' copy of an appointment, and its reminders, follow only newer revisions:
an older or equal one leaves even the reminders' ids as they were."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from services.notifications.adapters.orm import appointments, reminders
from services.notifications.adapters.uow import NotificationsStorage
from services.notifications.application.planning import Planner
from services.notifications.application.reminder_planner import (
    AppointmentChange,
    ReminderPlanner,
)
from services.notifications.bootstrap import MIGRATIONS
from services.notifications.domain.reminders import ReminderPolicy
from shared.db import Database
from shared.events import Envelope, Event
from shared.events.booking import AppointmentCancelled, AppointmentRescheduled
from shared.migrations import upgrade

APPOINTMENT = "appointment-r"
MONDAY_10 = (datetime.now(UTC) + timedelta(days=7)).replace(
    hour=10, minute=0, second=0, microsecond=0
)


def moved(revision: int, starts_at: datetime) -> AppointmentRescheduled:
    return AppointmentRescheduled(
        appointment_id=APPOINTMENT,
        revision=revision,
        school_id="school-r",
        student_id="student-r",
        adviser_id="adviser-r",
        session_type="interview",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=40),
        location="Careers room",
    )


async def deliver(db: Database, *events: AppointmentChange) -> None:
    planner = ReminderPlanner(Planner(ReminderPolicy(), lambda: None))
    storage = NotificationsStorage(db, clock=lambda: datetime.now(UTC))
    for event in events:
        async with db.session() as s:
            envelope = Envelope.wrap(event, key=APPOINTMENT, producer="booking")
            await planner(Event(envelope, event), storage.within(s))


async def state(db: Database) -> tuple[dict[str, Any], list[tuple[str, int, datetime]]]:
    async with db.read_session() as s:
        copy = (await s.execute(sa.select(appointments))).one()._mapping
        due = (
            await s.execute(
                sa.select(reminders.c.id, reminders.c.appointment_revision, reminders.c.due_at)
                .where(reminders.c.status == "scheduled")
                .order_by(reminders.c.due_at)
            )
        ).all()
    return dict(copy), [tuple(r) for r in due]  # type: ignore[misc]


async def test_an_older_or_equal_revision_leaves_the_copy_and_its_reminders(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        await upgrade(db, MIGRATIONS)
        later = MONDAY_10 + timedelta(days=1)
        await deliver(db, moved(1, MONDAY_10), moved(3, later))
        after_3 = await state(db)
        assert after_3[0]["revision"] == 3 and after_3[0]["starts_at"] == later
        assert after_3[1] and {revision for _, revision, _ in after_3[1]} == {3}

        cancelled_2 = AppointmentCancelled(**moved(2, MONDAY_10).model_dump(), cancelled_by="pa")
        await deliver(db, moved(2, MONDAY_10), cancelled_2, moved(3, later), moved(1, MONDAY_10))
        assert await state(db) == after_3
    finally:
        await db.dispose()
