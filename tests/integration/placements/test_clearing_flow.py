"""Clearing through the API: the student's tick, the round's default, a run, and after publication.

Everyone wants the one hospital placement (one place a week); the software firm and the vets
have places nobody asked for. Students who take any suitable placement get those instead.
"""

from __future__ import annotations

from typing import Any

from tests.integration.placements.conftest import HEALTH, SCHOOL_A, SCHOOL_B, STUDENTS, Service
from tests.integration.placements.test_matching_flow import _completed_run

NOT_TICKED = "student-a1"


async def _everyone_wants_the_hospital(service: Service, round_id: str) -> None:
    for student_id in STUDENTS:
        body: dict[str, Any] = {"travel_limit_km": 15, "choices": [{"placement_id": HEALTH}]}
        if student_id == NOT_TICKED:
            body["clearing"] = False
        response = await service.client.put(
            f"/api/v1/rounds/{round_id}/students/me/preferences",
            json=body,
            headers=service.student(student_id),
        )
        assert response.status == 200, await response.text()
        expected = False if student_id == NOT_TICKED else None
        assert (await response.json())["clearing"] is expected


async def _live(service: Service, base: str) -> dict[str, dict[str, Any]]:
    response = await service.client.get(f"{base}/allocations", headers=service.ebp())
    return {a["student_id"]: a for a in (await response.json())["allocations"]}


async def test_opted_in_students_are_cleared_at_the_run_and_again_after_a_withdrawal(
    service: Service,
) -> None:
    client, ebp = service.client, service.ebp()
    opened = await service.open_round(clearing_default=True)
    assert opened["clearing_default"] is True
    base = f"/api/v1/rounds/{opened['id']}"
    await _everyone_wants_the_hospital(service, opened["id"])

    run = await _completed_run(service, opened["id"], seed=7)
    report = run["report"]
    assert report["placed_within_preferences"] == 2
    assert report["placed_through_clearing"] == 3, "the firm's two weeks and the vets' one"
    assert report["placed"] == 5 <= report["feasible_bound"]
    assert set(report["schools"]) == {SCHOOL_A, SCHOOL_B}
    for figures in report["schools"].values():
        assert set(figures) == {
            "students",
            "within_preferences",
            "through_clearing",
            "feasible_bound",
        }
    results = await (await client.get(f"{base}/runs/{run['id']}/results", headers=ebp)).json()
    cleared = [a for a in results["assignments"] if a["cleared"]]
    assert len(cleared) == 3 and NOT_TICKED not in {a["student_id"] for a in cleared}
    assert all(a["rank"] is None and a["placement_id"] != HEALTH for a in cleared)
    assert len(results["unplaced"]) == 1 and results["unplaced"][0]["reason"]

    published = await client.post(f"{base}/runs/{run['id']}/publication", headers=ebp)
    assert published.status == 200, await published.text()
    announced = [
        e
        for e in await service.outbox_events("placements.allocation.published")
        if e.data["round_id"] == opened["id"]
    ]
    assert sorted(e.key for e in announced if e.data["cleared"]) == sorted(
        a["student_id"] for a in cleared
    )

    dropped = await client.post(f"{base}/withdrawals", json={"placement_id": HEALTH}, headers=ebp)
    assert dropped.status == 200, await dropped.text()
    assert (await dropped.json())["newly_allocated"] == []
    leaver = next(a for a in cleared if a["week"] == "2027-W25")
    left = await client.post(
        f"{base}/withdrawals", json={"student_id": leaver["student_id"]}, headers=ebp
    )
    assert (await left.json())["newly_allocated"] == [], "nobody chose the freed place"
    before = await _live(service, base)

    outcome = await client.post(f"{base}/clearing", headers=ebp)
    assert outcome.status == 200, await outcome.text()
    (new,) = (await outcome.json())["newly_allocated"]
    assert (new["placement_id"], new["week"]) == (leaver["placement_id"], leaver["week"])
    assert new["student_id"] not in {NOT_TICKED, leaver["student_id"]}
    after = await _live(service, base)
    assert {k: v for k, v in after.items() if k != new["student_id"]} == before
    assert after[new["student_id"]]["cleared"] is True
    events = [
        e
        for e in await service.outbox_events("placements.allocation.published")
        if e.key == new["student_id"] and e.data["round_id"] == opened["id"]
    ]
    assert (events[-1].data["cleared"], events[-1].data["rematch"]) == (True, False)
    nothing_left = await client.post(f"{base}/clearing", headers=ebp)
    assert (await nothing_left.json())["newly_allocated"] == []


async def test_clearing_before_publication_is_refused(service: Service) -> None:
    opened = await service.open_round()
    assert opened["clearing_default"] is False
    refused = await service.client.post(
        f"/api/v1/rounds/{opened['id']}/clearing", headers=service.ebp()
    )
    assert refused.status == 409
    by_student = await service.client.post(
        f"/api/v1/rounds/{opened['id']}/clearing", headers=service.student("student-a1")
    )
    assert by_student.status == 403
