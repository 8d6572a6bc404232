"""Group sessions seat several students with one adviser, never more than the capacity,
even when everyone books at once (the unique seat index is the database's guard)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import time
from pathlib import Path

import sqlalchemy as sa

from services.booking.adapters.orm import appointments
from services.booking.application.agreements import AttendanceTerms, SessionTypeTerms
from services.booking.domain.model import SessionType
from tests.integration.booking.world import (
    PA_1,
    SCHOOL_A,
    agreement_terms,
    first_free_morning,
    london,
    world,
)

CAPACITY = 3
WORKSHOPS = agreement_terms(
    attendances=[
        AttendanceTerms(
            adviser_id=PA_1,
            weekdays=[0, 1, 2, 3, 4],
            start=time(13),
            end=time(14),
            session_types=[SessionType.GROUP],
        ),
        AttendanceTerms(adviser_id=PA_1, weekdays=[0, 1, 2, 3, 4], start=time(9), end=time(12)),
    ],
    session_types={
        SessionType.INTERVIEW: SessionTypeTerms(length_minutes=40),
        SessionType.GROUP: SessionTypeTerms(length_minutes=60, capacity=CAPACITY),
    },
)


async def test_a_group_session_fills_to_capacity_and_no_further(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path, students=12, terms=WORKSHOPS) as w:
        starts = london(first_free_morning(), 13)
        listed = await w.client.get(
            "/api/v1/slots",
            params={
                "school_id": SCHOOL_A,
                "session_type": "group",
                "from": starts.isoformat(),
                "to": london(first_free_morning(), 14).isoformat(),
            },
            headers=w.student(),
        )
        [slot] = (await listed.json())["slots"]
        assert slot["places_left"] == CAPACITY

        async def attempt(n: int) -> int:
            response = await w.client.post(
                "/api/v1/appointments",
                json={
                    "slot": {
                        "school_id": SCHOOL_A,
                        "session_type": "group",
                        "starts_at": starts.isoformat(),
                    }
                },
                headers=w.student(n),
            )
            await response.read()
            return response.status

        statuses = Counter(await asyncio.gather(*(attempt(n) for n in range(10))))
        assert statuses == {201: CAPACITY, 409: 10 - CAPACITY}
        async with w.db.read_session() as s:
            seats = sorted(
                (
                    await s.execute(
                        sa.select(appointments.c.seat).where(appointments.c.status == "confirmed")
                    )
                ).scalars()
            )
        assert seats == list(range(1, CAPACITY + 1))

        # the adviser is taken for the hour: an interview cannot overlap the workshop
        full = await w.client.get(
            "/api/v1/slots",
            params={
                "school_id": SCHOOL_A,
                "session_type": "group",
                "from": starts.isoformat(),
                "to": london(first_free_morning(), 14).isoformat(),
            },
            headers=w.student(11),
        )
        assert (await full.json())["slots"] == []
