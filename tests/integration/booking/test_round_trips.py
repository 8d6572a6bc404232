"""The booking hot path's statements: one read, the appointment, its event."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event

from services.booking.adapters.uow import BookingUnitOfWork
from services.booking.application.booking import BookSlot, book_slot
from services.booking.application.cache import ReferenceCache
from services.booking.bootstrap import MIGRATIONS
from services.booking.domain.model import Role, SessionType
from shared.db import Database
from shared.migrations import upgrade
from tests.integration.booking.world import (
    SCHOOL_A,
    build_world,
    first_free_morning,
    london,
    student_id,
)


async def test_a_booking_beside_a_taken_adviser_makes_one_read_with_reference_data_cached(
    database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith("BEGIN"):
            statements.append(" ".join(statement.split()[:3]))

    try:
        await upgrade(db, MIGRATIONS)
        await build_world(db)
        nine_forty = london(first_free_morning(), 9, 40)
        now = datetime.now(UTC)
        cache = ReferenceCache(time.monotonic)  # one per process, as the service holds it
        for n in (0, 1):  # the first fills the cache; the second finds one adviser taken
            cmd = BookSlot(SCHOOL_A, SessionType.INTERVIEW, nine_forty, student_id(n), Role.STUDENT)
            statements.clear()
            event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
            try:
                await book_slot(cmd, BookingUnitOfWork(db, producer="booking", cache=cache), now)
            finally:
                event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
        assert [s.split()[0] for s in statements] == ["SELECT", "INSERT", "INSERT"]
        assert statements[1:] == ["INSERT INTO appointments", "INSERT INTO outbox"]
    finally:
        await db.dispose()
