"""Erasing a student: upcoming appointments cancelled, history kept only anonymously."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

from services.booking.adapters.orm import appointments, contacts, students
from tests.integration.booking.test_lifecycle import booked, events_for, move_to
from tests.integration.booking.world import (
    SCHOOL_A,
    SCHOOL_B,
    World,
    london,
    student_id,
    world,
)


async def erase(w: World, headers: dict[str, str], student: str) -> tuple[int, dict]:
    response = await w.client.delete(f"/api/v1/students/{student}", headers=headers)
    return response.status, await response.json()


async def test_erasure_cancels_what_is_coming_and_anonymises_what_happened(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path) as w:
        upcoming = await booked(w, hour=9)
        past = await booked(w, hour=11)
        await move_to(w, past["id"], london(date.today() - timedelta(days=30), 10))
        async with w.db.session() as s:
            await s.execute(
                appointments.update()
                .where(appointments.c.id == past["id"])
                .values(referral_reason="Worried about exams", status="attended")
            )
        me = student_id(0)

        status, body = await erase(w, w.coordinator(), me)

        assert status == 200, body
        assert body == {"student_id": me, "cancelled_appointments": 1, "kept_anonymously": 2}
        async with w.db.read_session() as s:
            assert await s.scalar(sa.select(students.c.id).where(students.c.id == me)) is None
            assert not (
                await s.execute(sa.select(contacts).where(contacts.c.student_id == me))
            ).all()
            kept = (
                await s.execute(
                    sa.select(appointments).where(
                        appointments.c.id.in_([upcoming["id"], past["id"]])
                    )
                )
            ).all()
        assert {row.status for row in kept} == {"cancelled", "attended"}
        assert all(row.student_id.startswith("erased-") for row in kept)
        assert len({row.student_id for row in kept}) == 1
        assert all(row.referral_reason is None and row.cancel_reason is None for row in kept)
        assert [t for t, _ in await events_for(w, upcoming["id"])] == [
            "booking.appointment.confirmed",
            "booking.appointment.cancelled",
        ]
        assert (
            "directory.student.erased",
            {"student_id": me, "school_id": SCHOOL_A, "revision": 2},
        ) in await events_for(w, me)

        again, _ = await erase(w, w.coordinator(), me)
        assert again == 404
        lookup = await w.client.get(f"/api/v1/students/{me}", headers=w.admin())
        assert lookup.status == 404


async def test_only_the_school_s_coordinators_and_admins_may_erase(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path) as w:
        target = student_id(3)
        for headers, expected in (
            (w.student(3), 403),
            (w.adviser(), 403),
            (w.ebp(), 403),
            (w.coordinator(SCHOOL_B), 404),
            ({}, 401),
        ):
            status, body = await erase(w, headers, target)
            assert status == expected, body
        status, _ = await erase(w, w.admin(), "no-such-student")
        assert status == 404
        status, _ = await erase(w, w.admin(), target)
        assert status == 200
