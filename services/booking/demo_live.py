"""What is going on in the demo today: the demo student waits for a group session, a
drop-in queue runs at Ashcombe Academy with a few students already in it, and one student's
number is reported undeliverable for the coordinator to check.

Both go through the same use cases as the pages. A drop-in comes from the agreement when
today has one; on any other day (a weekend, a holiday) the demo opens one of its own for the
afternoon, so that the queue can be tried whenever the demo is started.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

import sqlalchemy as sa

from services.booking.adapters.orm import students
from services.booking.adapters.uow import BookingReads, BookingUnitOfWork
from services.booking.application import dropins
from services.booking.application.cache import ReferenceCache
from services.booking.application.ports import ContactAlert, DropInSession
from services.booking.application.waitlist import JoinWaitlist, join_waitlist
from services.booking.demo_names import SCHOOL_NAMES, demo_id
from services.booking.domain.calendar import local_instant
from services.booking.domain.model import LONDON, SessionType
from shared.db import Database

DEMO_QUEUE = 3
DEMO_STUDENT = demo_id("student", 4 * len(SCHOOL_NAMES))  # Year 11 at Ashcombe
OWN_DROPIN = (clock_time(12, 0), clock_time(18, 0))  # when the demo opens a drop-in of its own
OWN_DROPIN_ROOM = "Library"


def _unit(db: Database, cache: ReferenceCache) -> BookingUnitOfWork:
    return BookingUnitOfWork(db, producer="booking", cache=cache)


async def wait_for_a_group_session(
    db: Database, school_id: str, student_id: str, now: datetime
) -> None:
    """The demo student is on the school's waitlist for a group session."""
    cache = ReferenceCache(time.monotonic)
    cmd = JoinWaitlist(school_id, student_id, SessionType.GROUP)
    await join_waitlist(cmd, _unit(db, cache), now)


async def todays_dropin(
    db: Database, school_id: str, adviser_id: str, now: datetime
) -> DropInSession:
    """The adviser's drop-in at the school today, stored: the agreement's when it sets one,
    otherwise one the demo opens for the afternoon."""
    cache = ReferenceCache(time.monotonic)
    today = now.astimezone(LONDON).date()
    async with db.read_session() as session:
        reads = BookingReads(session, cache)
        found = [
            s
            for s in await dropins.planned(reads.schools, school_id, today)
            if s.adviser_id == adviser_id and s.ends_at > now
        ]
        if not found:
            start, end = (local_instant(today, at, LONDON) for at in OWN_DROPIN)
            key = f"demo|{school_id}|{adviser_id}|{start.isoformat()}"
            found = [
                DropInSession(
                    id=str(uuid.uuid5(dropins.NAMESPACE, key)),
                    school_id=school_id,
                    adviser_id=adviser_id,
                    starts_at=start,
                    ends_at=end,
                    location=OWN_DROPIN_ROOM,
                    slot_minutes=15,
                )
            ]
        stored = await reads.dropins.stored([s.id for s in found])
    await dropins.store_sessions(found, stored, _unit(db, cache))
    return found[0]


async def run_todays_dropin(
    db: Database, school_id: str, adviser_id: str, student_ids: list[str], now: datetime
) -> DropInSession:
    """Today's drop-in with `student_ids` waiting in it, in that order, from when it opens
    (unless anyone has joined its queue already)."""
    session = await todays_dropin(db, school_id, adviser_id, now)
    cache = ReferenceCache(time.monotonic)
    async with db.read_session() as read:
        _, queue = await dropins.queue_view(BookingReads(read, cache).dropins, session.id)
    if queue.entries:
        return session
    opens = session.starts_at - dropins.OPENS_BEFORE
    for n, student_id in enumerate(student_ids):
        cmd = dropins.JoinQueue(session.id, student_id)
        await dropins.join_queue(cmd, _unit(db, cache), opens + timedelta(minutes=n))
    return session


async def refresh(db: Database, *, now: datetime | None = None) -> bool:
    """On a later start of a demo loaded before: today's drop-in queue at Ashcombe, again.
    Returns True if the demo county is there."""
    now = now or datetime.now(UTC)
    async with db.read_session() as s:
        found = await s.scalar(
            sa.select(sa.func.count()).select_from(students).where(students.c.id == DEMO_STUDENT)
        )
    if not found:
        return False
    school_count = len(SCHOOL_NAMES)
    younger = [demo_id("student", n * school_count) for n in range(DEMO_QUEUE)]
    await run_todays_dropin(db, demo_id("school", 0), demo_id("adviser", 0), younger, now)
    return True


async def a_contact_to_check(
    db: Database,
    school_id: str,
    student_id: str,
    now: datetime,
    *,
    role: str = "student",
    route: int = 0,
) -> None:
    """A number of the student's (or, with `role` and `route`, a parent's) that notifications
    could not text, as its report would leave it."""
    uow = _unit(db, ReferenceCache(time.monotonic))
    async with uow:
        await uow.contact_alerts.keep(
            ContactAlert(
                owner_id=student_id,
                owner_kind="student",
                role=role,
                route=route,
                channel="sms",
                reason="invalid_address",
                school_id=school_id,
                reported_at=now - timedelta(days=1),
            )
        )
        await uow.commit()
