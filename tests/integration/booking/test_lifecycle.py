"""Cancel, reschedule and attendance through the API; every change lands in the outbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from services.booking.adapters.orm import appointments
from shared.messaging.tables import outbox
from tests.integration.booking.world import (
    World,
    coordinator_id,
    first_free_morning,
    london,
    world,
)


async def events_for(w: World, key: str) -> list[tuple[str, dict[str, Any]]]:
    async with w.db.read_session() as s:
        bodies = (
            (
                await s.execute(
                    sa.select(outbox.c.body).where(outbox.c.key == key).order_by(outbox.c.seq)
                )
            )
            .scalars()
            .all()
        )
    return [(json.loads(b)["type"], json.loads(b)["data"]) for b in bodies]


async def move_to(w: World, appointment_id: str, starts_at: datetime) -> None:
    """Time passes: put an appointment at `starts_at` without going through the rules."""
    async with w.db.session() as s:
        await s.execute(
            appointments.update()
            .where(appointments.c.id == appointment_id)
            .values(starts_at=starts_at, ends_at=starts_at + timedelta(minutes=40))
        )


async def booked(w: World, hour: int = 9, minute: int = 0, student: int = 0) -> dict[str, Any]:
    response = await w.book(w.student(student), london(first_free_morning(), hour, minute))
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def test_reschedule_keeps_the_appointment_and_bumps_its_revision(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path) as w:
        first = await booked(w)
        moved = await w.client.post(
            f"/api/v1/appointments/{first['id']}/reschedule",
            json={"starts_at": london(first_free_morning(), 10, 20).isoformat()},
            headers=w.student(),
        )
        assert moved.status == 200, await moved.text()
        body = await moved.json()
        assert (body["id"], body["revision"]) == (first["id"], 2)
        assert datetime.fromisoformat(body["starts_at"]) == london(first_free_morning(), 10, 20)
        off_grid = await w.client.post(
            f"/api/v1/appointments/{first['id']}/reschedule",
            json={"starts_at": london(first_free_morning(), 10, 25).isoformat()},
            headers=w.student(),
        )
        assert off_grid.status == 409
        assert (await off_grid.json())["alternatives"]
        types = [t for t, _ in await events_for(w, first["id"])]
        assert types == ["booking.appointment.confirmed", "booking.appointment.rescheduled"]


async def test_students_cancel_only_before_the_cut_off_and_staff_must_give_a_reason(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path) as w:
        first = await booked(w)
        await move_to(w, first["id"], datetime.now(UTC) + timedelta(hours=3))
        path = f"/api/v1/appointments/{first['id']}/cancel"

        late = await w.client.post(path, json={}, headers=w.student())
        assert late.status == 409
        assert (await late.json())["type"].endswith("cancellation-too-late")
        no_reason = await w.client.post(path, json={}, headers=w.coordinator())
        assert no_reason.status == 422
        cancelled = await w.client.post(
            path, json={"reason": "student on a school trip"}, headers=w.coordinator()
        )
        assert cancelled.status == 200
        assert (await cancelled.json())["status"] == "cancelled"
        again = await w.client.post(path, json={"reason": "twice"}, headers=w.coordinator())
        assert again.status == 409

        events = await events_for(w, first["id"])
        assert [t for t, _ in events][-1] == "booking.appointment.cancelled"
        assert "trip" not in json.dumps(events)  # the reason never travels to messages

        second = await booked(w, 10, 20, student=1)
        early = await w.client.post(
            f"/api/v1/appointments/{second['id']}/cancel", json={}, headers=w.student(1)
        )
        assert early.status == 200


async def test_a_no_show_is_chased_at_once_naming_the_coordinator(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path) as w:
        first = await booked(w)
        path = f"/api/v1/appointments/{first['id']}/attendance"
        too_early = await w.client.post(
            path, json={"attended": False}, headers=w.adviser(first["adviser_id"])
        )
        assert too_early.status == 409
        await move_to(w, first["id"], datetime.now(UTC) - timedelta(minutes=45))
        by_student = await w.client.post(path, json={"attended": True}, headers=w.student())
        assert by_student.status == 403

        marked = await w.client.post(
            path, json={"attended": False}, headers=w.adviser(first["adviser_id"])
        )
        assert marked.status == 200, await marked.text()
        assert (await marked.json())["status"] == "no_show"
        events = dict(await events_for(w, first["id"]))
        assert events["booking.appointment.attendance_recorded"]["attended"] is False
        chase = events["booking.appointment.no_show_chase"]
        assert chase["coordinator_id"] == coordinator_id()
        assert chase["student_id"] == first["student_id"]
