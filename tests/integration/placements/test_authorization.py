"""Every placements route against every caller: the round's own EBP staff and admins manage
it; coordinators and students of its schools read their part; a student changes only their
own preferences; everyone else (another school, another partnership, an adviser) is told the
round does not exist. Expected statuses are declared once, in `matrix`; a route in the route
table without a row fails.

Where a caller is allowed, the request is built to stop at a business rule or an id that is
not there (an unpublished round, no such run) so the table checks who gets past
authorization; the few that succeed change only this test's own round.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.placements.entrypoints.api import ROUTES
from shared.auth.principal import Role
from tests.authorization import api_routes, mismatches, template_of
from tests.integration.placements.conftest import (
    EBP,
    SCHOOL_A,
    SCHOOL_B,
    SCHOOL_C,
    WEEK_1,
    Service,
)

OTHER_EBP = "ebp-sussex"
SCHOOL_D = "school-d"
CALLERS = (
    "anon",
    "student",  # student-a1, in the round: the record's owner
    "classmate",  # student-a2, same school, another student
    "student_c",  # a school outside the round
    "adviser",  # placements has nothing for Personal Advisers
    "coordinator",  # school A, in the round
    "coordinator_c",  # school C, outside the round
    "ebp",  # the round's own partnership
    "ebp_other",  # another partnership
    "admin",
)
ROUTE_TABLE = api_routes(ROUTES)


def headers(service: Service, who: str) -> dict[str, str]:
    return {
        "anon": {},
        "student": service.student("student-a1"),
        "classmate": service.student("student-a2"),
        "student_c": service.headers(Role.STUDENT, "student-c1", schools=(SCHOOL_C,)),
        "adviser": service.headers(Role.ADVISER, "adviser-1", schools=(SCHOOL_A, SCHOOL_B)),
        "coordinator": service.coordinator(SCHOOL_A),
        "coordinator_c": service.coordinator(SCHOOL_C),
        "ebp": service.ebp(),
        "ebp_other": service.headers(
            Role.EBP, "ebp-other-staff", schools=(SCHOOL_D,), ebp_id=OTHER_EBP
        ),
        "admin": service.headers(Role.ADMIN, "admin-1"),
    }[who]


def expect(
    *, managers: int, insiders: int, outsiders: int = 404, **by_caller: int
) -> dict[str, int]:
    """`managers` the round's EBP and admins, `insiders` its schools' students and
    coordinators, `outsiders` everyone else signed in; then the exceptions by caller."""
    table = {
        "anon": 401,
        "ebp": managers,
        "admin": managers,
        "student": insiders,
        "classmate": insiders,
        "coordinator": insiders,
        "student_c": outsiders,
        "coordinator_c": outsiders,
        "adviser": outsiders,
        "ebp_other": outsiders,
    }
    table.update(by_caller)
    return table


def matrix(round_id: str) -> list[tuple[str, str, Any, dict[str, int]]]:
    r = f"/api/v1/rounds/{round_id}"
    students_refused = {"student": 403, "classmate": 403, "student_c": 403, "adviser": 403}
    # Routes for the round's managers only: other roles are refused before the round is read.
    staff_only = {**students_refused, "coordinator": 403, "coordinator_c": 403}
    new_round = {
        "name": "Another round",
        "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "schools": [{"school_id": SCHOOL_A, "weeks": [WEEK_1]}],
    }
    preferences = {"choices": [{"sector": "health"}], "travel_limit_km": 10}
    self_found = {
        "student_id": "student-a1",
        "employer_name": "Corner Bakery",
        "contact_email": "owner@bakery.example",
        "postcode": "ME14 1AA",
        "sector": "hospitality",
        "week": WEEK_1,
    }
    approval = {"health_safety_expires": "2028-01-31", "insurance_expires": "2028-01-31"}
    return [
        # Opening a round: EBP staff for their own schools (school A is not the other
        # partnership's); an admin must name the EBP (422).
        (
            "POST",
            "/api/v1/rounds",
            new_round,
            expect(managers=201, insiders=403, outsiders=403, admin=422, ebp_other=403),
        ),
        ("GET", "/api/v1/rounds", None, expect(managers=200, insiders=200, outsiders=200)),
        ("GET", r, None, expect(managers=200, insiders=200)),
        ("GET", f"{r}/options", {"school_id": SCHOOL_A}, expect(managers=200, insiders=200)),
        # Nothing published yet: an empty list for whoever may look.
        ("GET", f"{r}/allocations", None, expect(managers=200, insiders=200)),
        (
            "POST",
            f"{r}/employers/no-such-employer/confirmation",
            None,
            expect(managers=404, insiders=403, **staff_only),
        ),
        (
            "POST",
            f"{r}/withdrawals",
            {"student_id": "student-a1"},
            expect(managers=409, insiders=403, **staff_only),
        ),
        (
            "POST",
            f"{r}/clearing",
            None,
            expect(managers=409, insiders=403, **staff_only),
        ),
        ("GET", f"{r}/pins", None, expect(managers=200, insiders=403)),
        (
            "PUT",
            f"{r}/pins/student-a1",
            {"placement_id": "no-such-placement", "week": WEEK_1},
            expect(managers=422, insiders=403, **staff_only),
        ),
        (
            "DELETE",
            f"{r}/pins/student-a1",
            None,
            expect(managers=404, insiders=403, **staff_only),
        ),
        # A student states their own preferences, staff of the round's EBP for anyone.
        (
            "PUT",
            f"{r}/students/student-a1/preferences",
            preferences,
            expect(
                managers=200,
                insiders=200,
                classmate=403,
                coordinator=403,
                adviser=403,
                coordinator_c=403,
            ),
        ),
        (
            "GET",
            f"{r}/students/student-a1/preferences",
            None,
            expect(managers=200, insiders=200, classmate=403),
        ),
        # A student outside the round's schools has no record in it, even for its managers.
        (
            "PUT",
            f"{r}/students/student-elsewhere/preferences",
            preferences,
            expect(managers=404, insiders=403, coordinator_c=403, adviser=403, student_c=404),
        ),
        (
            "GET",
            f"{r}/students/student-elsewhere/preferences",
            None,
            expect(managers=404, insiders=404, classmate=404),
        ),
        (
            "GET",
            f"{r}/students/me/preferences",
            None,
            # Only the student has stated any (above); staff have no preferences of their own.
            expect(managers=404, insiders=200, classmate=404, coordinator=404),
        ),
        # The EBP's run starts; the admin's then meets it still running.
        (
            "POST",
            f"{r}/runs",
            {"seed": 0},
            expect(managers=202, insiders=403, admin=409, **staff_only),
        ),
        ("GET", f"{r}/runs", None, expect(managers=200, insiders=403)),
        (
            "GET",
            f"{r}/runs/comparison",
            {"first": "no-such-run", "second": "no-such-run"},
            expect(managers=404, insiders=403),
        ),
        ("GET", f"{r}/runs/no-such-run", None, expect(managers=404, insiders=403)),
        ("GET", f"{r}/runs/no-such-run/progress", None, expect(managers=404, insiders=403)),
        (
            "GET",
            f"{r}/runs/no-such-run/results",
            None,
            expect(managers=404, insiders=404, **students_refused),
        ),
        (
            "POST",
            f"{r}/runs/no-such-run/publication",
            None,
            expect(managers=404, insiders=403, **staff_only),
        ),
        (
            "POST",
            f"{r}/self-found",
            self_found,
            # The student registers theirs; staff then meet it already registered.
            expect(
                managers=409,
                insiders=201,
                **{**staff_only, "student": 201, "student_c": 404},
            ),
        ),
        ("GET", f"{r}/self-found", None, expect(managers=200, insiders=200)),
        (
            "POST",
            f"{r}/self-found/no-such-placement/approval",
            approval,
            expect(managers=404, insiders=403, **staff_only),
        ),
        (
            "POST",
            f"{r}/self-found/no-such-placement/rejection",
            None,
            expect(managers=404, insiders=403, **staff_only),
        ),
        (
            "GET",
            "/api/v1/vetting-warnings",
            None,
            expect(managers=200, insiders=403, outsiders=403, ebp_other=200),
        ),
    ]


def test_every_route_in_the_table_has_its_expectations_in_the_matrix() -> None:
    rows = matrix("a-round")
    covered = {template_of(ROUTE_TABLE, method, path) for method, path, _, _ in rows}
    missing = sorted(ROUTE_TABLE - covered)
    assert not missing, f"routes with no row in the authorization matrix: {missing}"
    for _, _, _, expected in rows:
        assert set(expected) == set(CALLERS)


async def test_every_route_answers_every_caller_as_the_rules_say(service: Service) -> None:
    round_id = (await service.open_round())["id"]
    wrong: list[str] = []
    for method, path, body, expected in matrix(round_id):
        for who in CALLERS:
            kwargs: dict[str, Any] = {"headers": headers(service, who)}
            if method == "GET" and body:
                kwargs["params"] = body
            elif body is not None:
                kwargs["json"] = body
            response = await service.client.request(method, path, **kwargs)
            await response.read()
            wrong += mismatches(method, path, response.status, expected, who)
            if response.status >= 400:
                assert response.content_type == "application/problem+json", (method, path)
    assert not wrong, "\n".join(wrong)


async def test_lists_show_another_partnership_or_school_nothing_of_a_round(
    service: Service,
) -> None:
    round_id = (await service.open_round())["id"]
    for who in ("ebp_other", "student_c", "coordinator_c", "adviser"):
        listed = await service.client.get("/api/v1/rounds", headers=headers(service, who))
        assert round_id not in {r["id"] for r in (await listed.json())["rounds"]}, who
    for who in ("ebp", "coordinator", "student"):
        listed = await service.client.get("/api/v1/rounds", headers=headers(service, who))
        assert round_id in {r["id"] for r in (await listed.json())["rounds"]}, who

    # The Kent catalogue has a lapsed check (P-OLD): Kent's staff see it, Sussex's do not.
    warned = {}
    for who in ("ebp", "ebp_other"):
        response = await service.client.get(
            "/api/v1/vetting-warnings", headers=headers(service, who)
        )
        warned[who] = (await response.json())["warnings"]
    assert warned["ebp"] and warned["ebp_other"] == []

    # A coordinator sees only their own school's part of the round.
    seen = await service.client.get(
        f"/api/v1/rounds/{round_id}", headers=headers(service, "coordinator")
    )
    assert {s["school_id"] for s in (await seen.json())["schools"]} == {SCHOOL_A}
    assert EBP != OTHER_EBP
