"""The demo PA's diary: a few interviews over the coming weeks, so that the PA's and the
coordinator's pages have something in them."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from services.booking.adapters.uow import BookingReads, BookingUnitOfWork
from services.booking.application.availability import find_slots
from services.booking.application.booking import BookSlot, book_slot
from services.booking.application.cache import ReferenceCache
from services.booking.domain.model import Role as DomainRole
from services.booking.domain.model import SessionType
from shared.db import Database

DIARY_PER_SCHOOL = 3


async def book_diary(
    db: Database,
    adviser_id: str,
    served: list[str],
    student_ids: list[str],
    spare: set[str],
    now: datetime,
) -> None:
    """Book a few interviews with `adviser_id` at each school they serve, with the last
    students on each roll (never those in `spare`), through the same use case as any
    booking."""
    cache = ReferenceCache(time.monotonic)
    for school_id in served:
        async with db.read_session() as session:
            reads = BookingReads(session, cache)
            school = await reads.schools.get(school_id)
            if school is None:
                continue
            slots = await find_slots(
                reads,
                school,
                SessionType.INTERVIEW,
                now,
                now + timedelta(days=28),
                now,
                student=None,
                staff=True,
            )
            roll = [s.student_id for s in await reads.students.of_school(school_id)]
        mine = [slot for slot in slots if adviser_id in slot.adviser_ids][::4]
        order = {student_id: n for n, student_id in enumerate(student_ids)}
        pupils = sorted((s for s in roll if s not in spare), key=order.__getitem__, reverse=True)
        for slot, student_id in zip(mine[:DIARY_PER_SCHOOL], pupils, strict=False):
            cmd = BookSlot(
                school_id,
                SessionType.INTERVIEW,
                slot.start,
                student_id,
                DomainRole.COORDINATOR,
                adviser_id,
            )
            await book_slot(cmd, BookingUnitOfWork(db, producer="booking", cache=cache), now)
