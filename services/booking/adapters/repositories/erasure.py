"""What erasing a student removes, re-points and redacts (see `application.erasure`)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
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
from services.booking.application.ports import StudentOnFile
from services.booking.domain.model import Role
from shared.messaging.maintenance import redact_key


class ErasureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def locked_student(self, student_id: str) -> StudentOnFile | None:
        """The student's school, year group and revision, the row locked until the end."""
        row = (
            await self._session.execute(
                sa.select(students.c.school_id, students.c.year_group, students.c.revision)
                .where(students.c.id == student_id)
                .with_for_update()
            )
        ).first()
        return None if row is None else StudentOnFile(row.school_id, row.year_group, row.revision)

    async def forget(self, student_id: str, pseudonym: str, student: StudentOnFile) -> int:
        """Re-point the student's appointments at `pseudonym` (school and year group only),
        clearing their reasons, and delete everything else of theirs; the count kept."""
        s = self._session
        await s.execute(
            students.insert().values(
                id=pseudonym,
                school_id=student.school_id,
                year_group=student.year_group,
                priority_flags=[],
            )
        )
        kept = await self._update(
            appointments.update()
            .where(appointments.c.student_id == student_id)
            .values(student_id=pseudonym, referral_reason=None, cancel_reason=None)
        )
        await self._scrub_offer_chains(student_id, pseudonym)
        await s.execute(
            sa.delete(waitlist_offers).where(waitlist_offers.c.student_id == student_id)
        )
        entries = sa.select(waitlist_entries.c.id).where(
            waitlist_entries.c.student_id == student_id
        )
        await s.execute(sa.delete(waitlist_offers).where(waitlist_offers.c.entry_id.in_(entries)))
        await s.execute(
            sa.delete(waitlist_entries).where(waitlist_entries.c.student_id == student_id)
        )
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
        return kept

    async def open_sessions(self, student_id: str, now: datetime) -> list[str]:
        found = await self._session.execute(
            sa.select(sessions.c.id)
            .join(accounts, accounts.c.id == sessions.c.account_id)
            .where(
                accounts.c.person_id == student_id,
                accounts.c.role == Role.STUDENT.value,
                sessions.c.revoked_at.is_(None),
                sessions.c.expires_at > now,
            )
        )
        return list(found.scalars())

    async def redact_events(self, key: str, keep_types: Collection[str]) -> None:
        """Drop the outbox's unpublished events under `key` and empty the published ones'
        payloads, but for `keep_types`."""
        await redact_key(self._session, key, keep_types=frozenset(keep_types))

    async def _scrub_offer_chains(self, student_id: str, pseudonym: str) -> None:
        """Other students' offers list who the place went to before them: swap the student out."""
        mentioned = await self._session.execute(
            sa.select(waitlist_offers.c.id, waitlist_offers.c.offered_to).where(
                sa.cast(waitlist_offers.c.offered_to, sa.Text).contains(f'"{student_id}"'),
                waitlist_offers.c.student_id != student_id,
            )
        )
        for offer_id, offered_to in mentioned.all():
            chain = sorted(pseudonym if sid == student_id else sid for sid in offered_to)
            await self._session.execute(
                waitlist_offers.update()
                .where(waitlist_offers.c.id == offer_id)
                .values(offered_to=chain)
            )

    async def _update(self, statement: sa.Update) -> int:
        """Run an UPDATE and return how many rows it changed."""
        result = cast(CursorResult[Any], await self._session.execute(statement))
        return result.rowcount or 0
