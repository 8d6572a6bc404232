"""Rounds, options and preferences through the API, with who may do what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from services.placements.adapters.orm import allocation_rounds, preferences
from shared.auth.principal import Role
from tests.integration.placements.conftest import (
    EXPIRED,
    HEALTH,
    IT,
    SCHOOL_A,
    SCHOOL_B,
    SCHOOL_C,
    WEEK_1,
    YEAR_11,
    Service,
)


async def test_only_ebp_staff_open_rounds_for_their_own_schools(service: Service) -> None:
    client = service.client
    deadline = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    body = {
        "name": "R",
        "deadline": deadline,
        "schools": [{"school_id": SCHOOL_A, "weeks": [WEEK_1]}],
    }

    coordinator = await client.post(
        "/api/v1/rounds", json=body, headers=service.coordinator(SCHOOL_A)
    )
    assert coordinator.status == 403
    assert coordinator.content_type == "application/problem+json"

    outsider = service.headers(Role.EBP, "other", schools=(SCHOOL_B,), ebp_id="ebp-other")
    assert (await client.post("/api/v1/rounds", json=body, headers=outsider)).status == 403

    unknown = {**body, "schools": [{"school_id": "school-nowhere", "weeks": [WEEK_1]}]}
    admin = service.headers(Role.ADMIN, "admin")
    response = await client.post("/api/v1/rounds", json={**unknown, "ebp_id": "e"}, headers=admin)
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "schools.0.school_id"

    past = {**body, "deadline": (datetime.now(UTC) - timedelta(days=1)).isoformat()}
    response = await client.post("/api/v1/rounds", json=past, headers=service.ebp())
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "deadline"

    bad_week = {**body, "schools": [{"school_id": SCHOOL_A, "weeks": ["2027-W60"]}]}
    assert (await client.post("/api/v1/rounds", json=bad_week, headers=service.ebp())).status == 422

    async with service.db.read_session() as s:
        named = sa.select(sa.func.count()).where(allocation_rounds.c.name == "R")
        assert await s.scalar(named) == 0


async def test_a_round_is_visible_only_to_those_who_take_part(service: Service) -> None:
    client = service.client
    created = await service.open_round()
    path = f"/api/v1/rounds/{created['id']}"

    assert (await client.get(path, headers=service.ebp())).status == 200
    assert (await client.get(path, headers=service.ebp("ebp-other"))).status == 404
    assert (await client.get(path, headers=service.coordinator(SCHOOL_C))).status == 404
    adviser = service.headers(Role.ADVISER, "pa", schools=(SCHOOL_A,))
    assert (await client.get(path, headers=adviser)).status == 404

    seen = await (await client.get(path, headers=service.coordinator(SCHOOL_A))).json()
    assert [s["school_id"] for s in seen["schools"]] == [SCHOOL_A]

    listed = await (
        await client.get("/api/v1/rounds", headers=service.student("student-b1"))
    ).json()
    assert created["id"] in [r["id"] for r in listed["rounds"]]
    listed = await (
        await client.get("/api/v1/rounds", headers=service.coordinator(SCHOOL_C))
    ).json()
    assert created["id"] not in [r["id"] for r in listed["rounds"]]
    listed = await (await client.get("/api/v1/rounds", headers=service.ebp("ebp-other"))).json()
    assert listed["rounds"] == []
    assert (await client.get(path)).status == 401


async def test_preferences_are_validated_field_by_field_and_nothing_is_stored(
    service: Service,
) -> None:
    client = service.client
    round_id = (await service.open_round())["id"]
    path = f"/api/v1/rounds/{round_id}/students/me/preferences"
    me = service.student("student-a1")

    async def refused(body: dict[str, object], status: int, field: str | None = None) -> None:
        response = await client.put(path, json=body, headers=me)
        assert response.status == status, await response.text()
        assert response.content_type == "application/problem+json"
        if field is not None:
            assert (await response.json())["errors"][0]["field"] == field

    base = {"travel_limit_km": 10}
    five = [{"sector": s} for s in ("health", "it", "animal_care", "retail", "law")]
    await refused({**base, "choices": five}, 422, "choices")
    await refused({**base, "choices": []}, 422, "choices")
    await refused({**base, "choices": [{"sector": "health", "placement_id": IT}]}, 422, "choices.0")
    await refused({**base, "choices": [{"sector": "it"}, {"sector": "it"}]}, 422, "choices.1")
    await refused({**base, "choices": [{"placement_id": "nope"}]}, 422, "choices.0.placement_id")
    await refused({**base, "choices": [{"placement_id": EXPIRED}]}, 422, "choices.0.placement_id")
    await refused({**base, "choices": [{"sector": "law"}]}, 422, "choices.0.sector")
    await refused({"travel_limit_km": 0, "choices": [{"sector": "it"}]}, 422, "travel_limit_km")
    await refused({**base, "choices": [{"sector": "it"}], "nickname": "x"}, 422, "nickname")
    async with service.db.read_session() as s:
        stored = sa.select(sa.func.count()).where(preferences.c.round_id == round_id)
        assert await s.scalar(stored) == 0

    year_11 = service.student(YEAR_11)
    body = {**base, "choices": [{"sector": "it"}]}
    assert (await client.put(path, json=body, headers=year_11)).status == 404

    saved = await client.put(
        path,
        json={
            **base,
            "choices": [{"placement_id": HEALTH}, {"sector": "it"}],
            "access_needs": ["step_free"],
        },
        headers=me,
    )
    assert saved.status == 200, await saved.text()
    assert (await saved.json())["student_id"] == "student-a1"

    mine = await client.get(path, headers=me)
    assert (await mine.json())["choices"][0] == {"placement_id": HEALTH, "sector": None}
    other = f"/api/v1/rounds/{round_id}/students/student-a2/preferences"
    assert (await client.get(other, headers=me)).status == 403
    assert (await client.put(other, json=body, headers=me)).status == 403

    a1 = f"/api/v1/rounds/{round_id}/students/student-a1/preferences"
    assert (await client.get(a1, headers=service.coordinator(SCHOOL_A))).status == 200
    assert (await client.put(a1, json=body, headers=service.coordinator(SCHOOL_A))).status == 403
    assert (await client.get(a1, headers=service.coordinator(SCHOOL_B))).status == 404
    assert (await client.put(a1, json=body, headers=service.ebp())).status == 200

    async with service.db.session() as s:
        await s.execute(
            allocation_rounds.update()
            .where(allocation_rounds.c.id == round_id)
            .values(deadline=datetime.now(UTC) - timedelta(minutes=1))
        )
    late = await client.put(path, json=body, headers=me)
    assert late.status == 409
    assert (await late.json())["type"].endswith("/deadline-passed")


async def test_options_flag_scarce_places_with_their_demand_ratio(service: Service) -> None:
    client = service.client
    round_id = (await service.open_round())["id"]
    for student in ("student-a1", "student-a2", "student-b1"):
        response = await client.put(
            f"/api/v1/rounds/{round_id}/students/me/preferences",
            json={"travel_limit_km": 20, "choices": [{"sector": "health"}]},
            headers=service.student(student),
        )
        assert response.status == 200

    options = await client.get(
        f"/api/v1/rounds/{round_id}/options", headers=service.student("student-a3")
    )
    assert options.status == 200
    body = await options.json()
    assert body["school_id"] == SCHOOL_A
    sectors = {s["sector"]: s["demand"] for s in body["sectors"]}
    # Two health places in the round (the lapsed clinic's don't count), three students want one.
    assert sectors["health"] == {"places": 2, "demand": 3, "ratio": 1.5, "scarce": False}
    offered = {p["placement_id"]: p for p in body["placements"]}
    assert EXPIRED not in offered
    assert offered[HEALTH]["weeks"] == [WEEK_1]

    await client.put(
        f"/api/v1/rounds/{round_id}/students/me/preferences",
        json={"travel_limit_km": 20, "choices": [{"placement_id": HEALTH}]},
        headers=service.student("student-b2"),
    )
    body = await (
        await client.get(
            f"/api/v1/rounds/{round_id}/options",
            params={"school_id": SCHOOL_B},
            headers=service.ebp(),
        )
    ).json()
    health = {s["sector"]: s["demand"] for s in body["sectors"]}["health"]
    assert health == {"places": 2, "demand": 4, "ratio": 2.0, "scarce": True}

    needs_school = await client.get(f"/api/v1/rounds/{round_id}/options", headers=service.ebp())
    assert needs_school.status == 422
