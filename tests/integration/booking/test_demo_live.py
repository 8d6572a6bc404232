"""The demo has something going on whatever day it starts: the demo student on a waitlist,
and a drop-in queue at Ashcombe today, on a school day or not, and again on a later start."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

from services.booking.adapters.uow import BookingReads
from services.booking.application import dropins
from services.booking.application.cache import ReferenceCache
from services.booking.bootstrap import create_app
from services.booking.demo import demo_id, seed
from services.booking.demo_live import DEMO_QUEUE, DEMO_STUDENT, refresh
from services.booking.domain.model import LONDON, SessionType
from services.booking.settings import BookingSettings
from shared.db import Database
from tests.support import app_client, settings_for

ASHCOMBE = demo_id("school", 0)
SATURDAY = datetime(2026, 3, 7, 9, 30, tzinfo=LONDON)  # no drop-in in the agreement
FRIDAY = datetime(2026, 3, 13, 9, 30, tzinfo=LONDON)  # the agreement's Friday lunchtime one


async def _todays(db: Database, now: datetime) -> list[tuple[dropins.DropInSession, int]]:
    async with db.read_session() as session:
        reads = BookingReads(session, ReferenceCache(time.monotonic))
        day = reads.dropins
        start = datetime.combine(now.astimezone(LONDON).date(), datetime.min.time(), LONDON)
        found = await day.at_school(ASHCOMBE, start, start + timedelta(days=1))
        return [(s, len((await dropins.queue_view(day, s.id))[1].waiting())) for s in found]


async def test_the_demo_runs_a_dropin_queue_today_on_any_day_and_on_a_later_start(
    broker: str, database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(
        BookingSettings, database_url=database_url, broker=broker, data_dir=tmp_path
    )
    async with app_client(create_app, settings):
        db = Database(database_url)
        try:
            assert await seed(db, students_total=60, advisers_total=4, now=SATURDAY)
            [(saturday, waiting)] = await _todays(db, SATURDAY)
            assert waiting == DEMO_QUEUE
            assert saturday.starts_at < SATURDAY + timedelta(hours=3) < saturday.ends_at
            async with db.read_session() as session:
                reads = BookingReads(session, ReferenceCache(time.monotonic))
                entry = await reads.waitlist.waiting_entry_id(
                    DEMO_STUDENT, ASHCOMBE, SessionType.GROUP
                )
            assert entry is not None

            assert await refresh(db, now=FRIDAY)
            assert await refresh(db, now=FRIDAY)  # a second start the same day adds nobody
            [(friday, waiting)] = await _todays(db, FRIDAY)
            assert waiting == DEMO_QUEUE
            assert friday.starts_at.astimezone(LONDON).hour == 12  # the agreement's, 12:15
        finally:
            await db.dispose()
