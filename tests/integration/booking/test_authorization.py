"""Every route against every role: students see their own, advisers the schools they serve,
coordinators their school, admins everything; the rest is 403, or 404 where existence leaks.

Where a caller is allowed, the request is built to stop at a business rule (an off-grid time,
a missing reason) so the table checks who gets past authorization without changing state.
Every route in booking's route table must have a row: a new route without one fails.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from services.booking.bootstrap import ROUTES
from shared.auth.principal import Role
from shared.http.openapi import split_path
from tests.integration.booking.world import (
    PA_1,
    PA_3,
    SCHOOL_A,
    SCHOOL_B,
    World,
    agreement_terms,
    first_free_morning,
    london,
    student_id,
    world,
)
from tests.support import bearer

ROLES = (
    "anon",
    "student",
    "classmate",
    "student_b",
    "adviser",
    "adviser_b",
    "coordinator",
    "coordinator_b",
    "admin",
    "ebp",
)


def headers(w: World, who: str) -> dict[str, str]:
    return {
        "anon": {},
        "student": w.student(0),
        "classmate": w.student(1),
        "student_b": bearer(w.token(Role.STUDENT, student_id(0, SCHOOL_B), (SCHOOL_B,))),
        "adviser": w.adviser(PA_1),
        "adviser_b": w.adviser(PA_3, (SCHOOL_B,)),
        "coordinator": w.coordinator(),
        "coordinator_b": bearer(w.token(Role.COORDINATOR, "coord-b", (SCHOOL_B,))),
        "admin": w.admin(),
        "ebp": w.ebp(),
    }[who]


def expect(default: int, **by_role: int) -> dict[str, int]:
    table = dict.fromkeys(ROLES, default)
    table["anon"] = 401
    table.update(by_role)
    return table


def matrix(appointment_id: str) -> list[tuple[str, str, Any, dict[str, int]]]:
    day = first_free_morning()
    off_grid = london(day, 9, 10).isoformat()
    slot = {"school_id": SCHOOL_A, "starts_at": off_grid}
    window = {
        "school_id": SCHOOL_A,
        "from": london(day, 0).isoformat(),
        "to": london(day, 23).isoformat(),
    }
    appt = f"/api/v1/appointments/{appointment_id}"
    other_school = {"student_b": 403, "adviser_b": 403, "coordinator_b": 403, "ebp": 403}
    hidden = {
        "classmate": 404,
        "student_b": 404,
        "adviser_b": 404,
        "coordinator_b": 404,
        "ebp": 403,
    }
    no_students = dict.fromkeys(("student", "classmate", "student_b"), 403)
    students_only = dict.fromkeys(
        ("adviser", "adviser_b", "coordinator", "coordinator_b", "admin", "ebp"), 403
    )
    return [
        ("GET", "/api/v1/me", None, expect(200)),
        ("GET", "/api/v1/schools", None, expect(200)),
        (
            "GET",
            f"/api/v1/schools/{SCHOOL_A}",
            None,
            expect(200, student_b=403, adviser_b=403, coordinator_b=403),
        ),
        ("GET", f"/api/v1/students/{student_id(0)}", None, expect(200, **hidden)),
        ("GET", "/api/v1/slots", window, expect(200, **other_school)),
        (
            "POST",
            "/api/v1/appointments",
            {"slot": slot, "student_id": student_id(2)},
            expect(409, student=403, classmate=403, **other_school),
        ),
        (
            "POST",
            "/api/v1/appointments",
            {"slot": slot},
            expect(422, student=409, classmate=409, **other_school),
        ),
        ("GET", appt, None, expect(200, **hidden)),
        ("POST", f"{appt}/cancel", {}, expect(422, student=200, **hidden)),
        ("POST", f"{appt}/reschedule", {"starts_at": off_grid}, expect(409, **hidden)),
        (
            "POST",
            f"{appt}/attendance",
            {"attended": True},
            expect(
                409,
                student=403,
                classmate=403,
                student_b=403,
                adviser_b=404,
                coordinator_b=404,
                ebp=403,
            ),
        ),
        (
            "POST",
            "/api/v1/waitlist",
            {"school_id": SCHOOL_A},
            expect(422, student=201, classmate=201, **other_school),
        ),
        ("GET", "/api/v1/waitlist/offers", None, expect(200, **students_only)),
        ("POST", "/api/v1/waitlist/offers/none/accept", None, expect(404, **students_only)),
        ("POST", "/api/v1/waitlist/offers/none/decline", None, expect(404, **students_only)),
        (
            "GET",
            "/api/v1/dropins",
            {"school_id": SCHOOL_A, "date": day.isoformat()},
            expect(200, **other_school),
        ),
        ("POST", "/api/v1/dropins/live/queue", None, expect(201, student_b=404, **students_only)),
        (
            "GET",
            "/api/v1/dropins/live/queue",
            None,
            expect(200, student_b=404, adviser_b=404, coordinator_b=404, ebp=403),
        ),
        (
            "POST",
            "/api/v1/dropins/live/queue/nobody/skip",
            None,
            expect(
                404,
                student=403,
                classmate=403,
                student_b=403,
                coordinator=403,
                coordinator_b=403,
                ebp=403,
            ),
        ),
        (
            "POST",
            "/api/v1/dropins/live/queue/next",
            None,
            expect(
                200,
                student=403,
                classmate=403,
                student_b=403,
                adviser_b=404,
                coordinator=403,
                coordinator_b=403,
                ebp=403,
            ),
        ),
        (
            "GET",
            f"/api/v1/schools/{SCHOOL_A}/agreements/{_year()}",
            None,
            expect(200, student=403, classmate=403, **other_school),
        ),
        (
            "PUT",
            f"/api/v1/schools/{SCHOOL_A}/agreements/{_year()}",
            agreement_terms().model_dump(mode="json"),
            expect(403, admin=200),
        ),
        (
            "GET",
            f"/api/v1/reports/schools/{SCHOOL_A}",
            {"from": day.isoformat(), "to": day.isoformat()},
            expect(403, coordinator=200, admin=200),
        ),
        # What staff pages read: a school's appointments, an adviser's diary, a search.
        (
            "GET",
            "/api/v1/appointments",
            {"school_id": SCHOOL_A, "from": day.isoformat(), "to": day.isoformat()},
            expect(200, **{**other_school, **no_students}),
        ),
        (
            "GET",
            "/api/v1/appointments",
            {"adviser_id": PA_1, "from": day.isoformat(), "to": day.isoformat()},
            expect(200, **no_students, adviser_b=403, ebp=403),
        ),
        (
            "POST",
            f"/api/v1/schools/{SCHOOL_A}/students/search",
            {"text": "S0"},
            expect(200, **{**other_school, **no_students}),
        ),
        # Contact alerts: the school's staff read them; its coordinators and admins dismiss.
        (
            "GET",
            "/api/v1/contact-alerts",
            {"school_id": SCHOOL_A},
            expect(403, adviser=200, coordinator=200, admin=200),
        ),
        (
            "POST",
            "/api/v1/contact-alerts/dismissals",
            {"school_id": SCHOOL_A, "owner_id": "no-such-student", "route": 0, "channel": "sms"},
            expect(403, coordinator=404, admin=404),
        ),
        # A PA's own calendars: theirs alone, so every other role is refused.
        ("POST", "/api/v1/advisers/me/feed/rotation", None, advisers_only(200)),
        ("GET", "/api/v1/advisers/me/feed", None, advisers_only(200)),
        ("DELETE", "/api/v1/advisers/me/feed", None, advisers_only(204)),
        ("PUT", "/api/v1/advisers/me/calendar-import", {"url": "not a url"}, advisers_only(422)),
        ("GET", "/api/v1/advisers/me/calendar-import", None, advisers_only(404)),
        ("DELETE", "/api/v1/advisers/me/calendar-import", None, advisers_only(404)),
        # Erasing a student: coordinators and admins only; an id that is not there is 404.
        (
            "DELETE",
            "/api/v1/students/no-such-student",
            None,
            expect(403, coordinator=404, coordinator_b=404, admin=404),
        ),
        # Signing in needs no sign-in, and a wrong password is refused whoever asks.
        (
            "POST",
            "/api/v1/auth/login",
            {"email": "nobody@school.example", "password": "guess"},
            expect(401),
        ),
        ("POST", "/api/v1/auth/logout", None, expect(204)),
        # A password change needs the current password: these callers have none to give.
        (
            "POST",
            "/api/v1/auth/password",
            {"current_password": "guess", "new_password": "a long new passphrase"},
            expect(403),
        ),
        # Accounts are the admin's to disable, enable and sign out; others are refused.
        ("POST", "/api/v1/accounts/no-such-account/disable", None, expect(403, admin=404)),
        ("POST", "/api/v1/accounts/no-such-account/enable", None, expect(403, admin=404)),
        ("POST", "/api/v1/accounts/no-such-account/sign-out", None, expect(403, admin=404)),
    ]


def advisers_only(status: int) -> dict[str, int]:
    return expect(403, adviser=status, adviser_b=status)


def api_routes() -> set[tuple[str, str]]:
    """Every (method, path template) of booking's JSON API, from its route table."""
    return {
        (route.method, route.path)
        for table in ROUTES
        for route in table
        if isinstance(route, web.RouteDef) and route.path.startswith("/api/")
    }


def template_of(method: str, path: str) -> tuple[str, str] | None:
    """The route template a concrete request goes to, as aiohttp would match it."""
    for route_method, template in api_routes():
        name_free, patterns = split_path(template)
        regex = re.escape(name_free)
        for name, pattern in patterns.items():
            regex = regex.replace(re.escape("{" + name + "}"), f"(?:{pattern or '[^/]+'})")
        if route_method == method and re.fullmatch(regex, path):
            return route_method, template
    return None


def test_every_route_in_the_table_has_its_expectations_in_the_matrix() -> None:
    covered = {template_of(method, path) for method, path, _, _ in matrix("an-appointment")}
    missing = sorted(api_routes() - covered)
    assert not missing, f"routes with no row in the authorization matrix: {missing}"
    for _, _, _, expected in matrix("an-appointment"):
        assert set(expected) == set(ROLES)


def _year() -> str:
    from services.booking.application.agreements import academic_year_of

    return academic_year_of(first_free_morning()).replace("/", "-")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/auth.db"


async def test_every_route_answers_every_role_as_the_rules_say(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path) as w:
        booked = await w.book(w.student(0), london(first_free_morning(), 9))
        appointment_id = (await booked.json())["id"]
        await w.live_dropin()
        wrong: list[str] = []
        for method, path, body, expected in matrix(appointment_id):
            for who in ROLES:
                if path.endswith("/cancel") and who == "student":
                    continue  # would really cancel; covered in the lifecycle tests
                kwargs: dict[str, Any] = {"headers": headers(w, who)}
                if method == "GET" and body:
                    kwargs["params"] = body
                elif body is not None:
                    kwargs["json"] = body
                response = await w.client.request(method, path, **kwargs)
                await response.read()
                if response.status != expected[who]:
                    wrong.append(
                        f"{method} {path} as {who}: {response.status}, expected {expected[who]}"
                    )
                if response.status >= 400:
                    assert response.content_type == "application/problem+json"
        assert not wrong, "\n".join(wrong)


async def test_priority_flags_and_referral_reasons_are_for_staff_only(
    sqlite_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(sqlite_url, broker, tmp_path) as w:
        flagged = student_id(9)
        referral = {"reason": "worried about NEET risk", "urgency": "soon"}
        booked = await w.book(
            w.coordinator(),
            london(first_free_morning(), 9),
            student_id=flagged,
            referral=referral,
        )
        assert booked.status == 201, await booked.text()
        path = f"/api/v1/appointments/{(await booked.json())['id']}"
        as_student = await (await w.client.get(path, headers=w.student(9))).json()
        as_staff = await (await w.client.get(path, headers=w.adviser(PA_1))).json()
        assert as_student["referral"] is None
        assert as_staff["referral"]["reason"] == referral["reason"]

        record = f"/api/v1/students/{flagged}"
        assert (await (await w.client.get(record, headers=w.student(9))).json())[
            "priority_flags"
        ] is None
        assert (await (await w.client.get(record, headers=w.coordinator())).json())[
            "priority_flags"
        ] == ["neet_risk"]
        referral_by_student = await w.book(
            w.student(1), london(first_free_morning(), 10, 20), referral=referral
        )
        assert referral_by_student.status == 403
