"""The EBP workflow through the API: pin, run, compare, publish, confirm, withdraw and re-match.

Events are checked where they are written, in the outbox table, in the same transaction as the
change; the broker test shows the relay taking them on to `placements.events`.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import eventually
from tests.integration.placements.conftest import (
    HEALTH,
    IT,
    SCHOOL_A,
    SCHOOL_B,
    STUDENTS,
    VET,
    WEEK_2,
    Service,
)

NAMES = ("Maidstone Hospital", "Medway Software", "Town Vets", "Old Clinic")


async def _completed_run(service: Service, round_id: str, seed: int) -> dict[str, Any]:
    client = service.client
    started = await client.post(
        f"/api/v1/rounds/{round_id}/runs", json={"seed": seed}, headers=service.ebp()
    )
    assert started.status == 202, await started.text()
    location = started.headers["Location"]

    async def finished() -> dict[str, Any] | None:
        run = await (await client.get(location, headers=service.ebp())).json()
        return run if run["status"] != "running" else None

    run = await eventually(finished, timeout=30)
    assert run["status"] == "completed", run
    return dict(run)


async def _state_students_preferences(service: Service, round_id: str) -> None:
    for student_id in STUDENTS:
        response = await service.client.put(
            f"/api/v1/rounds/{round_id}/students/me/preferences",
            json={
                "travel_limit_km": 15,
                "choices": [{"placement_id": HEALTH}, {"sector": "it"}, {"sector": "animal_care"}],
            },
            headers=service.student(student_id),
        )
        assert response.status == 200, await response.text()


def _seats(allocations: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    return {a["student_id"]: (a["placement_id"], a["week"]) for a in allocations}


async def test_run_pin_publish_confirm_and_withdraw(service: Service) -> None:
    client, ebp = service.client, service.ebp()
    round_id = (await service.open_round())["id"]
    base = f"/api/v1/rounds/{round_id}"
    await _state_students_preferences(service, round_id)

    pinned = await client.put(
        f"{base}/pins/student-b3", json={"placement_id": IT, "week": WEEK_2}, headers=ebp
    )
    assert pinned.status == 200, await pinned.text()
    full = await client.put(
        f"{base}/pins/student-b1", json={"placement_id": IT, "week": WEEK_2}, headers=ebp
    )
    assert full.status == 409
    wrong_week = await client.put(
        f"{base}/pins/student-b1", json={"placement_id": VET, "week": WEEK_2}, headers=ebp
    )
    assert wrong_week.status == 422
    assert (await wrong_week.json())["errors"][0]["field"] == "week"

    first = await _completed_run(service, round_id, seed=7)
    report = first["report"]
    assert report["students"] == 6
    assert report["placed"] == report["max_placeable"] == 5
    assert report["blocking_pairs"] == 0
    assert set(report["school_rates"]) == {SCHOOL_A, "school-b"}
    results = await (await client.get(f"{base}/runs/{first['id']}/results", headers=ebp)).json()
    assert {"student_id": "student-b3", "placement_id": IT, "week": WEEK_2} in [
        {k: a[k] for k in ("student_id", "placement_id", "week")} for a in results["assignments"]
    ]
    assert [u["reason"] for u in results["unplaced"]] == ["capacity_exhausted"]

    trial = await client.get(
        f"{base}/runs/{first['id']}/results", headers=service.coordinator(SCHOOL_A)
    )
    assert trial.status == 404, "a school never sees a run the EBP has not published"
    assert (
        await client.get(f"{base}/runs/{first['id']}", headers=service.coordinator(SCHOOL_A))
    ).status == 403

    assert (await client.delete(f"{base}/pins/student-b3", headers=ebp)).status == 204
    assert (await client.delete(f"{base}/pins/student-b3", headers=ebp)).status == 404
    second = await _completed_run(service, round_id, seed=8)
    comparison = await client.get(
        f"{base}/runs/comparison",
        params={"first": first["id"], "second": second["id"]},
        headers=ebp,
    )
    assert comparison.status == 200
    measures = (await comparison.json())["measures"]
    assert measures["placed"] == {"first": 5, "second": 5}
    again = await client.get(f"{base}/runs/{second['id']}/results", headers=ebp)
    assert all(not a["pinned"] for a in (await again.json())["assignments"])

    student_tries = await client.post(
        f"{base}/runs/{first['id']}/publication", headers=service.student("student-a1")
    )
    assert student_tries.status == 403
    published = await client.post(f"{base}/runs/{first['id']}/publication", headers=ebp)
    school_view = await client.get(
        f"{base}/runs/{first['id']}/results", headers=service.coordinator(SCHOOL_A)
    )
    assert {a["school_id"] for a in (await school_view.json())["assignments"]} == {SCHOOL_A}
    assert published.status == 200, await published.text()
    assert (await published.json())["allocations"] == 5
    assert (await client.post(f"{base}/runs/{second['id']}/publication", headers=ebp)).status == 409
    assert (await client.post(f"{base}/runs", json={"seed": 1}, headers=ebp)).status == 409

    events = [e for e in await service.outbox_events() if e.data.get("round_id") == round_id]
    per_student = [e for e in events if e.type == "placements.allocation.published"]
    assert sorted(e.key for e in per_student) == sorted(
        a["student_id"] for a in results["assignments"]
    )
    per_employer = [e for e in events if e.type == "placements.employer_allocations.published"]
    assert len(per_employer) == (await published.json())["employers"]
    assert not any(name in e.model_dump_json() for e in events for name in NAMES)

    mine = await client.get(f"{base}/allocations", headers=service.student("student-a1"))
    assert {a["student_id"] for a in (await mine.json())["allocations"]} <= {"student-a1"}
    ours = await client.get(f"{base}/allocations", headers=service.coordinator(SCHOOL_A))
    assert {a["school_id"] for a in (await ours.json())["allocations"]} == {SCHOOL_A}
    before = _seats(
        (await (await client.get(f"{base}/allocations", headers=ebp)).json())["allocations"]
    )

    employer_of_it = next(
        e.data["employer_id"] for e in per_student if e.data["placement_id"] == IT
    )
    confirmed = await client.post(f"{base}/employers/{employer_of_it}/confirmation", headers=ebp)
    assert confirmed.status == 200
    assert (await confirmed.json())["confirmed"] == 2
    assert (
        await client.post(f"{base}/employers/{employer_of_it}/confirmation", headers=ebp)
    ).status == 409
    assert (await client.post(f"{base}/employers/nobody/confirmation", headers=ebp)).status == 404

    unplaced = next(s for s in STUDENTS if s not in before)
    leaver = sorted(s for s, seat in before.items() if seat[1] == "2027-W25")[0]
    withdrawn = await client.post(f"{base}/withdrawals", json={"student_id": leaver}, headers=ebp)
    assert withdrawn.status == 200, await withdrawn.text()
    outcome = await withdrawn.json()
    assert [w["student_id"] for w in outcome["withdrawn"]] == [leaver]
    after = _seats(
        (await (await client.get(f"{base}/allocations", headers=ebp)).json())["allocations"]
    )
    assert leaver not in after
    for student_id, seat in before.items():
        if student_id != leaver:
            assert after[student_id] == seat, "a re-match moved someone whose place stood"
    # The freed place suits every student, so the one left out takes it.
    assert [n["student_id"] for n in outcome["newly_allocated"]] == [unplaced]
    assert after[unplaced] == before[leaver]
    rematched = [
        e
        for e in await service.outbox_events("placements.allocation.published")
        if e.key == unplaced and e.data["round_id"] == round_id
    ]
    assert [e.data["rematch"] for e in rematched] == [True]

    again_withdrawn = await client.post(
        f"{base}/withdrawals", json={"student_id": leaver}, headers=ebp
    )
    assert again_withdrawn.status == 404
    both = await client.post(
        f"{base}/withdrawals", json={"student_id": leaver, "placement_id": IT}, headers=ebp
    )
    assert both.status == 422

    before = after
    dropped = await client.post(f"{base}/withdrawals", json={"placement_id": HEALTH}, headers=ebp)
    assert dropped.status == 200
    outcome = await dropped.json()
    displaced = {w["student_id"] for w in outcome["withdrawn"]}
    assert displaced == {s for s, seat in before.items() if seat[0] == HEALTH}
    after = _seats(
        (await (await client.get(f"{base}/allocations", headers=ebp)).json())["allocations"]
    )
    for student_id, seat in before.items():
        if student_id not in displaced:
            assert after[student_id] == seat

    events = [e for e in await service.outbox_events() if e.data.get("round_id") == round_id]
    withdrawals = [e for e in events if e.type == "placements.allocation.withdrawn"]
    assert [e.data["withdrawn_by"] for e in withdrawals].count("student") == 1
    assert [e.data["withdrawn_by"] for e in withdrawals].count("employer") == len(displaced)
    assert len([e for e in events if e.type == "placements.allocation.confirmed"]) == 2


async def test_a_runs_progress_is_read_through_the_api_by_the_round_managers(
    service: Service,
) -> None:
    client, ebp = service.client, service.ebp()
    round_id = (await service.open_round())["id"]
    await _state_students_preferences(service, round_id)
    run = await _completed_run(service, round_id, seed=3)
    progress = f"/api/v1/rounds/{round_id}/runs/{run['id']}/progress"

    finished = await client.get(progress, headers=ebp)
    assert finished.status == 200, await finished.text()
    assert finished.headers["Cache-Control"] == "no-store"
    body = await finished.json()
    assert body["run_id"] == run["id"]
    assert (body["status"], body["stage_name"], body["percent"]) == ("completed", "Finished", 100)
    assert body["total"] >= body["done"] >= 0

    school = await client.get(progress, headers=service.coordinator(SCHOOL_A))
    assert school.status == 403
    missing = await client.get(f"/api/v1/rounds/{round_id}/runs/no-such/progress", headers=ebp)
    assert missing.status == 404


async def test_a_self_found_placement_is_approved_then_pinned(service: Service) -> None:
    client, ebp = service.client, service.ebp()
    round_id = (await service.open_round())["id"]
    base = f"/api/v1/rounds/{round_id}"
    body = {
        "employer_name": "Family Garage",
        "contact_email": "owner@garage.example",
        "postcode": "ME14 2LP",
        "sector": "automotive",
        "week": "2027-W25",
    }
    wrong_week = await client.post(
        f"{base}/self-found",
        json={**body, "week": "2027-W30"},
        headers=service.student("student-a2"),
    )
    assert wrong_week.status == 422
    registered = await client.post(
        f"{base}/self-found", json=body, headers=service.student("student-a2")
    )
    assert registered.status == 201, await registered.text()
    self_found_id = (await registered.json())["id"]
    twice = await client.post(
        f"{base}/self-found", json=body, headers=service.student("student-a2")
    )
    assert twice.status == 409

    mine = await client.get(f"{base}/self-found", headers=service.student("student-a1"))
    assert (await mine.json())["self_found"] == []
    school_a = await client.get(f"{base}/self-found", headers=service.coordinator(SCHOOL_A))
    assert [r["student_id"] for r in (await school_a.json())["self_found"]] == ["student-a2"]
    school_b = await client.get(f"{base}/self-found", headers=service.coordinator(SCHOOL_B))
    assert (await school_b.json())["self_found"] == []
    approval = f"{base}/self-found/{self_found_id}/approval"
    vetting = {"health_safety_expires": "2027-06-01", "insurance_expires": "2028-01-01"}
    assert (
        await client.post(approval, json=vetting, headers=service.coordinator(SCHOOL_A))
    ).status == 403
    lapses = await client.post(approval, json=vetting, headers=ebp)
    assert lapses.status == 422
    assert (await lapses.json())["errors"][0]["field"] == "health_safety_expires"

    vetting["health_safety_expires"] = "2028-01-01"
    approved = await client.post(approval, json=vetting, headers=ebp)
    assert approved.status == 200, await approved.text()
    placement_id = (await approved.json())["placement_id"]
    assert (await client.post(approval, json=vetting, headers=ebp)).status == 409

    pins = await (await client.get(f"{base}/pins", headers=ebp)).json()
    assert [(p["student_id"], p["placement_id"], p["source"]) for p in pins["pins"]] == [
        ("student-a2", placement_id, "self_found")
    ]
    run = await _completed_run(service, round_id, seed=1)
    results = await (await client.get(f"{base}/runs/{run['id']}/results", headers=ebp)).json()
    assert results["assignments"] == [
        {
            "student_id": "student-a2",
            "school_id": SCHOOL_A,
            "placement_id": placement_id,
            "week": "2027-W25",
            "rank": None,
            "pinned": True,
            "cleared": False,
        }
    ]
    other = await client.post(
        f"{base}/self-found", json=body, headers=service.student("student-a3")
    )
    rejection = f"{base}/self-found/{(await other.json())['id']}/rejection"
    assert (await client.post(rejection, headers=ebp)).status == 204
    assert (await client.post(rejection, headers=ebp)).status == 409
    again = await client.post(
        f"{base}/self-found", json=body, headers=service.student("student-a3")
    )
    assert again.status == 201

    announced = await service.outbox_events("placements.employer.upserted")
    assert "owner@garage.example" in [e.data["contact_email"] for e in announced]


async def test_openapi_describes_the_placements_api(service: Service) -> None:
    spec = await (await service.client.get("/api/openapi.json")).json()
    for path in (
        "/api/v1/rounds",
        "/api/v1/rounds/{round_id}/students/{student_id}/preferences",
        "/api/v1/rounds/{round_id}/runs",
        "/api/v1/rounds/{round_id}/runs/{run_id}/results",
        "/api/v1/rounds/{round_id}/runs/{run_id}/publication",
        "/api/v1/rounds/{round_id}/withdrawals",
        "/api/v1/rounds/{round_id}/clearing",
    ):
        assert path in spec["paths"], path
