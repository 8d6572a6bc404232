"""What is going on in the demo today: the demo student waits for a group session, and a
drop-in queue runs at Ashcombe Academy with a few students already in it.

Both go through the same use cases as the pages. A drop-in comes from the agreement when
today has one; on any other day (a weekend, a holiday) the demo opens one of its own for the
afternoon, so that the queue can be tried whenever the demo is started.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from datetime import time as clock_time

from services.booking.adapters.uow import BookingReads, BookingUnitOfWork
from services.booking.application import dropins
from services.booking.application.cache import ReferenceCache
from services.booking.application.ports import DropInSession
from services.booking.application.waitlist import JoinWaitlist, join_waitlist
from services.booking.domain.calendar import local_instant
from services.booking.domain.model import LONDON, SessionType
from shared.db import Database

DEMO_QUEUE = 3
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
    """Today's drop-in with `student_ids` waiting in it, in that order, from when it opens."""
    session = await todays_dropin(db, school_id, adviser_id, now)
    cache = ReferenceCache(time.monotonic)
    opens = session.starts_at - dropins.OPENS_BEFORE
    for n, student_id in enumerate(student_ids):
        cmd = dropins.JoinQueue(session.id, student_id)
        await dropins.join_queue(cmd, _unit(db, cache), opens + timedelta(minutes=n))
    return session
