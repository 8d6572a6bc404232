"""Two hundred students try for one slot at once: exactly one gets it, on both databases."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import time
from pathlib import Path

import sqlalchemy as sa

from services.booking.adapters.orm import appointments
from services.booking.application.agreements import AttendanceTerms
from tests.integration.booking.world import (
    PA_1,
    agreement_terms,
    first_free_morning,
    london,
    world,
)

ATTEMPTS = 200


async def test_two_hundred_concurrent_attempts_on_one_slot_give_one_booking(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    one_adviser = agreement_terms(
        attendances=[AttendanceTerms(adviser_id=PA_1, weekdays=[0, 1, 2, 3, 4], start=time(9))]
    )
    async with world(database_url, broker, tmp_path, students=ATTEMPTS, terms=one_adviser) as w:
        starts = london(first_free_morning(), 9)
        headers = [w.student(n) for n in range(ATTEMPTS)]

        async def attempt(n: int) -> int:
            response = await w.book(headers[n], starts)
            await response.read()
            return response.status

        statuses = Counter(await asyncio.gather(*(attempt(n) for n in range(ATTEMPTS))))

        assert statuses == {201: 1, 409: ATTEMPTS - 1}
        async with w.db.read_session() as s:
            active = await s.scalar(
                sa.select(sa.func.count())
                .select_from(appointments)
                .where(appointments.c.status == "confirmed")
            )
        assert active == 1
