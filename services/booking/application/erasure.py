"""Erasing a student: the right to erasure for a child's record, in one unit of work.

What goes, and why:

- the student row (name, reference, date of birth, priority flags, disadvantage), their
  contacts (phone, email, consents), their sign-in account and its sessions, their waitlist
  entries and offers and their places in drop-in queues;
- upcoming appointments are cancelled first, as staff would cancel them, so the adviser's
  time is offered to the waitlist and notifications withdraw the reminders;
- past appointments stay, for the service's own statistics (interviews held, PA time used,
  no-show rates), but they are re-pointed at a fresh pseudonym that keeps only the school and
  year group, and their referral and cancellation reasons are cleared. Nothing left links
  them to the child.

A `directory.student.erased` event, one revision on from the student's last (read under the
row lock), tells the other services to delete their copies. The outbox holds the student's
directory events (keyed by the student id, with date of birth and contacts): those not yet
published are dropped, since the erasure supersedes them, and the published ones keep their
envelope (ids, type, times) with the payload emptied. The caller records who asked (the
audit log names the staff member and the student id).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import (
    accounts,
    appointments,
    contacts,
    dropin_queue,
    sessions,
    students,
    waitlist_entries,
    waitlist_offers,
)
from services.booking.application.appointments import cancel_within
from services.booking.domain.errors import UnknownStudent
from services.booking.domain.model import AppointmentStatus, Role
from shared.events.directory import StudentErased
from shared.messaging.maintenance import redact_key
from shared.uow import UnitOfWork

ERASURE_REASON = "The student's record was erased."


@dataclass(frozen=True)
class Erasure:
    student_id: str
    school_id: str
    cancelled_appointments: int
    kept_anonymously: int


async def erase_student(
    uow: UnitOfWork, student_id: str, by_role: Role, now: datetime, offer_ttl: timedelta
) -> Erasure:
    """Erase `student_id` as described in the module's docstring, and commit."""
    s = uow.session
    student = (
        await s.execute(
            sa.select(students.c.school_id, students.c.year_group, students.c.revision)
            .where(students.c.id == student_id)
            .with_for_update()
        )
    ).first()
    if student is None:
        raise UnknownStudent()
    upcoming = (
        await s.execute(
            sa.select(appointments).where(
                appointments.c.student_id == student_id,
                appointments.c.status == AppointmentStatus.CONFIRMED.value,
                appointments.c.starts_at > now,
            )
        )
    ).all()
    for row in upcoming:
        await cancel_within(uow, row, by_role, ERASURE_REASON, now, offer_ttl)

    pseudonym = f"erased-{uuid.uuid4().hex[:29]}"  # as long as an id may be (36)
    await s.execute(
        students.insert().values(
            id=pseudonym,
            school_id=student.school_id,
            year_group=student.year_group,
            priority_flags=[],
        )
    )
    kept = await _update(
        s,
        appointments.update()
        .where(appointments.c.student_id == student_id)
        .values(student_id=pseudonym, referral_reason=None, cancel_reason=None),
    )
    await _scrub_offer_chains(uow, student_id, pseudonym)
    await s.execute(sa.delete(waitlist_offers).where(waitlist_offers.c.student_id == student_id))
    entries = sa.select(waitlist_entries.c.id).where(waitlist_entries.c.student_id == student_id)
    await s.execute(sa.delete(waitlist_offers).where(waitlist_offers.c.entry_id.in_(entries)))
    await s.execute(sa.delete(waitlist_entries).where(waitlist_entries.c.student_id == student_id))
    await s.execute(sa.delete(dropin_queue).where(dropin_queue.c.student_id == student_id))
    await s.execute(sa.delete(contacts).where(contacts.c.student_id == student_id))
    account_ids = sa.select(accounts.c.id).where(
        accounts.c.person_id == student_id, accounts.c.role == Role.STUDENT.value
    )
    await s.execute(sa.delete(sessions).where(sessions.c.account_id.in_(account_ids)))
    await s.execute(
        sa.delete(accounts).where(
            accounts.c.person_id == student_id, accounts.c.role == Role.STUDENT.value
        )
    )
    await s.execute(sa.delete(students).where(students.c.id == student_id))
    await redact_key(s, student_id, keep_types=frozenset({StudentErased.event_type}))
    await uow.emit(
        StudentErased(
            student_id=student_id, school_id=student.school_id, revision=student.revision + 1
        ),
        key=student_id,
    )
    await uow.commit()
    return Erasure(
        student_id=student_id,
        school_id=student.school_id,
        cancelled_appointments=len(upcoming),
        kept_anonymously=kept,
    )


async def _scrub_offer_chains(uow: UnitOfWork, student_id: str, pseudonym: str) -> None:
    """Other students' offers list who the place went to before them: swap the student out."""
    s = uow.session
    mentioned = await s.execute(
        sa.select(waitlist_offers.c.id, waitlist_offers.c.offered_to).where(
            sa.cast(waitlist_offers.c.offered_to, sa.Text).contains(f'"{student_id}"'),
            waitlist_offers.c.student_id != student_id,
        )
    )
    for offer_id, offered_to in mentioned.all():
        chain = sorted(pseudonym if sid == student_id else sid for sid in offered_to)
        await s.execute(
            waitlist_offers.update()
            .where(waitlist_offers.c.id == offer_id)
            .values(offered_to=chain)
        )


async def _update(s: AsyncSession, statement: sa.Update) -> int:
    """Run an UPDATE and return how many rows it changed."""
    result = cast(CursorResult[Any], await s.execute(statement))
    return result.rowcount or 0
