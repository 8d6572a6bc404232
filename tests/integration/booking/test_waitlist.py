"""The waitlist: a freed place is held for the next student (priority first), then passed on
when the offer lapses; the expiry runs from the offer rows, driven by the scheduled sweep."""

from __future__ import annotations

import json
from datetime import date, time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from services.booking.adapters.orm import waitlist_entries, waitlist_offers
from services.booking.application.agreements import AttendanceTerms
from shared.messaging.tables import outbox
from tests.conftest import eventually
from tests.integration.booking.world import (
    PA_1,
    SCHOOL_A,
    SCHOOL_B,
    World,
    agreement_terms,
    first_free_morning,
    london,
    student_id,
    world,
)

ONE_SLOT_A_DAY = agreement_terms(
    attendances=[
        AttendanceTerms(adviser_id=PA_1, weekdays=[0, 1, 2, 3, 4], start=time(9), end=time(9, 40))
    ]
)


async def offers(w: World) -> list[Any]:
    async with w.db.read_session() as s:
        return list(
            (
                await s.execute(sa.select(waitlist_offers).order_by(waitlist_offers.c.offered_at))
            ).all()
        )


async def join(w: World, n: int) -> str:
    response = await w.client.post(
        "/api/v1/waitlist", json={"school_id": SCHOOL_A}, headers=w.student(n)
    )
    assert response.status == 201, await response.text()
    entry_id: str = (await response.json())["id"]
    return entry_id


async def test_a_freed_place_goes_to_the_priority_student_and_can_be_accepted(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path, terms=ONE_SLOT_A_DAY) as w:
        starts = london(first_free_morning(), 9)
        taken = await w.book(w.student(0), starts)
        appointment = await taken.json()
        await join(w, 1)
        flagged = await join(w, 9)  # joined later, but flagged NEET risk
        twice = await w.client.post(
            "/api/v1/waitlist", json={"school_id": SCHOOL_A}, headers=w.student(1)
        )
        assert twice.status == 409

        cancel = await w.client.post(
            f"/api/v1/appointments/{appointment['id']}/cancel", json={}, headers=w.student(0)
        )
        assert cancel.status == 200
        [offer] = await offers(w)
        assert (offer.student_id, offer.entry_id) == (student_id(9), flagged)

        held = await w.book(w.student(1), starts)
        assert held.status == 409  # the place is held for the student it was offered to
        mine = await (await w.client.get("/api/v1/waitlist/offers", headers=w.student(9))).json()
        assert [o["id"] for o in mine["offers"]] == [offer.id]
        not_theirs = await w.client.post(
            f"/api/v1/waitlist/offers/{offer.id}/accept", headers=w.student(1)
        )
        assert not_theirs.status == 404
        accepted = await w.client.post(
            f"/api/v1/waitlist/offers/{offer.id}/accept", headers=w.student(9)
        )
        assert accepted.status == 201, await accepted.text()
        assert (await accepted.json())["student_id"] == student_id(9)
        assert [o.status for o in await offers(w)] == ["accepted"]
        async with w.db.read_session() as s:
            ended = (
                (
                    await s.execute(
                        sa.select(outbox.c.body).where(
                            outbox.c.event_type == "booking.waitlist.offer_ended"
                        )
                    )
                )
                .scalars()
                .all()
            )
            entry = await s.scalar(
                sa.select(waitlist_entries.c.status).where(
                    waitlist_entries.c.student_id == student_id(9)
                )
            )
        assert [json.loads(b)["data"]["outcome"] for b in ended] == ["accepted"]
        assert entry == "booked"


async def test_a_lapsed_offer_passes_to_the_next_student_in_line(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(
        database_url,
        broker,
        tmp_path,
        terms=ONE_SLOT_A_DAY,
        WAITLIST_OFFER_SECONDS="1",
        WAITLIST_SWEEP_SECONDS="0.2",
    ) as w:
        taken = await w.book(w.student(0), london(first_free_morning(), 9))
        first_entry = await join(w, 1)
        second_entry = await join(w, 2)
        await w.client.post(
            f"/api/v1/appointments/{(await taken.json())['id']}/cancel",
            json={},
            headers=w.student(0),
        )

        async def passed_on() -> list[Any] | None:
            found = await offers(w)
            return found if len(found) == 2 and found[1].status == "open" else None

        first, second = await eventually(passed_on, timeout=10)
        assert (first.student_id, first.status) == (student_id(1), "expired")
        assert second.student_id == student_id(2)
        assert (first.entry_id, second.entry_id) == (first_entry, second_entry)
        assert set(second.offered_to) == {student_id(1), student_id(2)}
        declined = await w.client.post(
            f"/api/v1/waitlist/offers/{second.id}/decline", headers=w.student(2)
        )
        assert declined.status == 204
        assert [o.status for o in await offers(w)] == ["expired", "declined"]


async def test_staff_put_a_named_student_of_the_school_on_the_waitlist(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path, terms=ONE_SLOT_A_DAY) as w:

        async def post(body: dict[str, Any], headers: dict[str, str]) -> Any:
            response = await w.client.post("/api/v1/waitlist", json=body, headers=headers)
            return response.status, await response.json()

        status, problem = await post({"school_id": SCHOOL_A}, w.coordinator())
        assert (status, problem["type"].rsplit("/", 1)[-1]) == (422, "validation")
        elsewhere = {"school_id": SCHOOL_A, "student_id": student_id(0, SCHOOL_B)}
        status, problem = await post(elsewhere, w.coordinator())
        assert (status, problem["type"].rsplit("/", 1)[-1]) == (422, "unknown-student")
        classmate = {"school_id": SCHOOL_A, "student_id": student_id(1)}
        status, _ = await post(classmate, w.student(0))
        assert status == 403

        status, joined = await post(classmate, w.coordinator())
        assert status == 201
        assert joined["student_id"] == student_id(1)
        status, problem = await post(classmate, w.adviser())
        assert (status, problem["type"].rsplit("/", 1)[-1]) == (409, "already-waiting")


async def test_moving_into_a_place_held_for_me_takes_the_offer(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path, terms=ONE_SLOT_A_DAY) as w:
        held_day = first_free_morning()
        other_day = first_free_morning((held_day - date.today()).days + 1)
        first = await (await w.book(w.student(0), london(held_day, 9))).json()
        mine = await w.book(w.student(1), london(other_day, 9))
        assert mine.status == 201, await mine.text()
        await join(w, 1)
        cancel = await w.client.post(
            f"/api/v1/appointments/{first['id']}/cancel", json={}, headers=w.student(0)
        )
        assert cancel.status == 200
        [offer] = await offers(w)
        assert offer.student_id == student_id(1)

        moved = await w.client.post(
            f"/api/v1/appointments/{(await mine.json())['id']}/reschedule",
            json={"starts_at": london(held_day, 9).isoformat()},
            headers=w.student(1),
        )

        assert moved.status == 200, await moved.text()
        assert [o.status for o in await offers(w)] == ["accepted"]
