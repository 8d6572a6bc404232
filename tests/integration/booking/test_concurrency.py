"""Two hundred students try for one slot at once: exactly one gets it, on both databases."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa

from services.booking.adapters.orm import appointments
from services.booking.application.agreements import AttendanceTerms
from tests.integration.booking.world import (
    PA_1,
    SCHOOL_A,
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


async def test_concurrent_moves_into_one_slot_give_one_move_and_refusals(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    one_adviser = agreement_terms(
        attendances=[AttendanceTerms(adviser_id=PA_1, weekdays=[0, 1, 2, 3, 4], start=time(9))]
    )
    movers = 8
    async with world(database_url, broker, tmp_path, students=movers, terms=one_adviser) as w:
        day = first_free_morning()
        wanted = london(day, 9)
        free = await w.client.get(
            "/api/v1/slots",
            params={
                "school_id": SCHOOL_A,
                "from": (wanted + timedelta(minutes=1)).isoformat(),
                "to": (wanted + timedelta(days=14)).isoformat(),
            },
            headers=w.coordinator(),
        )
        later = [slot["starts_at"] for slot in (await free.json())["slots"]][:movers]
        assert len(later) == movers
        booked = []
        for n, starts_at in enumerate(later):
            response = await w.book(w.student(n), datetime.fromisoformat(starts_at))
            assert response.status == 201, await response.text()
            booked.append((await response.json())["id"])

        async def move(n: int) -> int:
            response = await w.client.post(
                f"/api/v1/appointments/{booked[n]}/reschedule",
                json={"starts_at": wanted.isoformat()},
                headers=w.coordinator(),
            )
            await response.read()
            return response.status

        statuses = Counter(await asyncio.gather(*(move(n) for n in range(movers))))

        assert statuses == {200: 1, 409: movers - 1}
        async with w.db.read_session() as s:
            at_nine = await s.scalar(
                sa.select(sa.func.count())
                .select_from(appointments)
                .where(appointments.c.status == "confirmed", appointments.c.starts_at == wanted)
            )
        assert at_nine == 1
