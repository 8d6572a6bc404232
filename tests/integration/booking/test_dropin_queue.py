"""The live drop-in queue: join, see position and wait, be called, be skipped."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from services.booking.adapters.orm import dropin_sessions
from services.booking.application.agreements import AttendanceTerms
from services.booking.domain.model import SessionType
from services.booking.entrypoints.context import BOOKING
from shared.messaging.tables import outbox
from tests.integration.booking.world import (
    PA_1,
    SCHOOL_A,
    agreement_terms,
    first_free_morning,
    student_id,
    world,
)

LUNCHTIME_DROPINS = agreement_terms(
    attendances=[
        AttendanceTerms(adviser_id=PA_1, weekdays=[0, 1, 2, 3, 4], start=time(9), end=time(12)),
        AttendanceTerms(
            adviser_id=PA_1,
            weekdays=[0, 1, 2, 3, 4],
            start=time(12, 15),
            end=time(13, 15),
            session_types=[SessionType.DROPIN],
        ),
    ]
)


async def test_the_queue_gives_places_calls_the_next_and_skips_a_no_show(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path, terms=LUNCHTIME_DROPINS) as w:
        listed = await w.client.get(
            "/api/v1/dropins",
            params={"school_id": SCHOOL_A, "date": first_free_morning().isoformat()},
            headers=w.student(),
        )
        assert listed.status == 200
        [future] = (await listed.json())["sessions"]
        early = await w.client.post(f"/api/v1/dropins/{future['id']}/queue", headers=w.student())
        assert early.status == 409  # the queue opens shortly before the session

        await w.live_dropin()  # a session running right now
        places = []
        for n in range(3):
            joined = await w.client.post("/api/v1/dropins/live/queue", headers=w.student(n))
            assert joined.status == 201, await joined.text()
            places.append(await joined.json())
        assert [(p["position"], p["estimated_wait_minutes"]) for p in places] == [
            (1, 15),
            (2, 30),
            (3, 45),
        ]
        twice = await w.client.post("/api/v1/dropins/live/queue", headers=w.student(0))
        assert twice.status == 409
        by_student = await w.client.post("/api/v1/dropins/live/queue/next", headers=w.student(0))
        assert by_student.status == 403

        called = await w.client.post("/api/v1/dropins/live/queue/next", headers=w.adviser())
        assert (await called.json())["student_id"] == student_id(0)
        skipped = await w.client.post(
            f"/api/v1/dropins/live/queue/{student_id(0)}/skip", headers=w.adviser()
        )
        assert (await skipped.json())["status"] == "skipped"
        mine = await (await w.client.get("/api/v1/dropins/live/queue", headers=w.student(2))).json()
        assert mine["waiting"][0]["position"] == 2
        whole = await (
            await w.client.get("/api/v1/dropins/live/queue", headers=w.coordinator())
        ).json()
        assert [p["student_id"] for p in whole["waiting"]] == [student_id(1), student_id(2)]

        async with w.db.read_session() as s:
            bodies = (
                (
                    await s.execute(
                        sa.select(outbox.c.body).where(
                            outbox.c.event_type == "booking.dropin.your_turn"
                        )
                    )
                )
                .scalars()
                .all()
            )
        [turn] = [json.loads(b)["data"] for b in bodies]
        assert (turn["student_id"], turn["session_id"]) == (student_id(0), "live")


async def test_two_advisers_pressing_next_together_call_different_students(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    import asyncio

    from tests.integration.booking.world import PA_2

    async with world(database_url, broker, tmp_path, terms=LUNCHTIME_DROPINS) as w:
        await w.live_dropin("busy")
        for n in range(4):
            joined = await w.client.post("/api/v1/dropins/busy/queue", headers=w.student(n))
            assert joined.status == 201
        first, second = await asyncio.gather(
            w.client.post("/api/v1/dropins/busy/queue/next", headers=w.adviser(PA_1)),
            w.client.post("/api/v1/dropins/busy/queue/next", headers=w.adviser(PA_2)),
        )
        called = {(await first.json())["student_id"], (await second.json())["student_id"]}
        assert called == {student_id(0), student_id(1)}


async def test_listing_stores_each_session_once_and_keeps_it_in_line_with_the_agreement(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path, terms=LUNCHTIME_DROPINS) as w:
        writes: list[str] = []

        def written(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if "dropin_sessions" in statement and not statement.lstrip().startswith("SELECT"):
                writes.append(statement)

        engine = w.client.app[BOOKING].db.engine.sync_engine
        sa.event.listen(engine, "before_cursor_execute", written)
        params = {"school_id": SCHOOL_A, "date": first_free_morning().isoformat()}

        async def listed() -> Any:
            response = await w.client.get("/api/v1/dropins", params=params, headers=w.student())
            assert response.status == 200
            return await response.json()

        try:
            first = await listed()
            [session] = first["sessions"]
            assert len(writes) == 1  # the first listing for the day stores the session
            assert await listed() == first
            assert len(writes) == 1  # later ones only read it

            async with w.db.session() as s:  # as stored before the agreement changed
                await s.execute(
                    dropin_sessions.update()
                    .where(dropin_sessions.c.id == session["id"])
                    .values(location="Old room")
                )
            assert await listed() == first
            assert len(writes) == 2
        finally:
            sa.event.remove(engine, "before_cursor_execute", written)
        async with w.db.read_session() as s:
            stored = (await s.execute(sa.select(dropin_sessions))).all()
        assert [(r.id, r.location, r.adviser_id) for r in stored] == [
            (session["id"], session["location"], PA_1)
        ]
