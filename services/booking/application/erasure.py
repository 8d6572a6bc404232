"""Erasing a student: the right to erasure for a child's record, in one unit of work.

What goes, and why:

- the student row (name, reference, date of birth, priority flags, disadvantage), their
  contacts (phone, email, consents), their sign-in account and its sessions (each open one
  announced as `identity.session.revoked`, so no service honours its tokens), their waitlist
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

from services.booking.application.lifecycle import cancel_in
from services.booking.application.ports import ErasureUnit
from services.booking.domain.errors import UnknownStudent
from services.booking.domain.model import AppointmentStatus, Role
from shared.auth.tokens import accepted_until
from shared.events.directory import StudentErased
from shared.events.identity import RevocationReason, SessionRevoked

ERASURE_REASON = "The student's record was erased."


@dataclass(frozen=True)
class EraseStudent:
    student_id: str
    by_role: Role


@dataclass(frozen=True)
class Erasure:
    student_id: str
    school_id: str
    cancelled_appointments: int
    kept_anonymously: int


async def erase_student(
    cmd: EraseStudent,
    uow: ErasureUnit,
    now: datetime,
    offer_ttl: timedelta,
    *,
    token_ttl: timedelta,
) -> Erasure:
    """Erase the student as described in the module's docstring, inside the caller's unit of
    work, and commit; every service is told to refuse the tokens of the account's open
    sessions (`token_ttl` long at most)."""
    student_id = cmd.student_id
    student = await uow.erasures.locked_student(student_id)
    if student is None:
        raise UnknownStudent()
    upcoming = [
        a
        for a in await uow.appointments.of_student(student_id)
        if a.status is AppointmentStatus.CONFIRMED and a.interval.start > now
    ]
    for appointment in upcoming:
        await cancel_in(uow, appointment, cmd.by_role, ERASURE_REASON, now, offer_ttl)
    for session_id in await uow.erasures.open_sessions(student_id, now):
        revoked = SessionRevoked(
            session_id=session_id,
            expires_at=accepted_until(now, token_ttl),
            reason=RevocationReason.ERASED,
        )
        await uow.emit(revoked, key=session_id)
    pseudonym = f"erased-{uuid.uuid4().hex[:29]}"  # as long as an id may be (36)
    kept = await uow.erasures.forget(student_id, pseudonym, student)
    await uow.erasures.redact_events(student_id, keep_types={StudentErased.event_type})
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
