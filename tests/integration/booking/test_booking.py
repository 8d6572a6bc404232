"""Booking a slot through the API on SQLite and PostgreSQL: allocation, refusals, events."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from services.booking.adapters.orm import appointments
from shared.events import decode
from shared.messaging.tables import outbox
from tests.integration.booking.world import (
    LONDON,
    PA_1,
    PA_2,
    SCHOOL_A,
    first_free_morning,
    london,
    student_id,
    world,
)


async def outbox_types(db, key: str) -> list[str]:  # type: ignore[no-untyped-def]
    async with db.read_session() as s:
        bodies = (
            (
                await s.execute(
                    sa.select(outbox.c.body).where(outbox.c.key == key).order_by(outbox.c.seq)
                )
            )
            .scalars()
            .all()
        )
    return [decode(b.encode())[0].type for b in bodies]


async def test_a_student_books_a_slot_and_gets_an_adviser(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path) as w:
        day = first_free_morning()
        slots = await w.client.get(
            "/api/v1/slots",
            params={
                "school_id": SCHOOL_A,
                "from": london(day, 0).isoformat(),
                "to": london(day, 23).isoformat(),
            },
            headers=w.student(),
        )
        assert slots.status == 200, await slots.text()
        listed = (await slots.json())["slots"]
        starts = [datetime.fromisoformat(s["starts_at"]) for s in listed]
        assert [t.astimezone(LONDON).strftime("%H:%M") for t in starts] == [
            "09:00",
            "09:40",
            "10:20",
            "11:00",
        ]
        assert "adviser_ids" not in listed[0]

        created = await w.book(w.student(), london(day, 9))
        assert created.status == 201, await created.text()
        body = await created.json()
        assert body["adviser_id"] in (PA_1, PA_2)
        assert body["student_id"] == student_id(0)
        assert await outbox_types(w.db, body["id"]) == ["booking.appointment.confirmed"]

        # the second adviser still takes the same time; a third booking is refused
        second = await w.book(w.student(1), london(day, 9))
        assert second.status == 201
        assert (await second.json())["adviser_id"] != body["adviser_id"]
        third = await w.book(w.student(2), london(day, 9))
        assert third.status == 409
        problem = await third.json()
        assert third.content_type == "application/problem+json"
        assert problem["alternatives"], problem
        assert all(a["starts_at"] != london(day, 9).isoformat() for a in problem["alternatives"])

        # the same student cannot be in two places at once
        clash = await w.book(w.student(), london(day, 9, 20))
        assert clash.status == 409


async def test_a_time_that_is_not_a_slot_is_refused_and_nothing_is_written(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path) as w:
        day = first_free_morning()
        off_grid = await w.book(w.student(), london(day, 9, 10))
        assert off_grid.status == 409
        assert (await off_grid.json())["type"].endswith("slot-unavailable")
        saturday = day + timedelta(days=(5 - day.weekday()) % 7)
        weekend = await w.book(w.student(), london(saturday, 9))
        assert weekend.status == 409
        too_soon = await w.book(w.student(), datetime.now(LONDON) + timedelta(minutes=5))
        assert too_soon.status == 422
        bad = await w.client.post(
            "/api/v1/appointments", json={"slot": {"school_id": SCHOOL_A}}, headers=w.student()
        )
        assert bad.status == 422
        assert (await bad.json())["errors"][0]["field"] == "slot.starts_at"
        async with w.db.read_session() as s:
            count = await s.scalar(sa.select(sa.func.count()).select_from(appointments))
        assert count == 0
