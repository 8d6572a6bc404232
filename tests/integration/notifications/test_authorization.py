"""Every notifications route against every caller: a student reads their own reminders and
sets their own contact preferences; the school's staff (and admins) read its reminders and
message log; another school's staff, other students and EBP staff see nothing. Expected
statuses are declared once, in `matrix`; a route in the route table without a row fails.

The reminders list answers 200 with no items to whoever may not see an appointment, as it
does for an appointment with none, so that ids cannot be probed: the test checks which
callers got items, not only the status.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from services.notifications.adapters.orm import reminders
from services.notifications.bootstrap import ROUTED  # noqa: F401  (declares their routes)
from services.notifications.entrypoints.api import routes
from services.notifications.entrypoints.context import NOTIFICATIONS
from shared.auth.principal import Role
from shared.events.booking import AppointmentConfirmed
from tests.authorization import api_routes, mismatches, template_of
from tests.conftest import eventually
from tests.integration.notifications.service import Running, running_service
from tests.integration.notifications.test_service import (
    SCHOOL,
    _appointment,
    _student,
    fresh_phone,
)
from tests.support import bearer, token_for

OTHER_SCHOOL = "school-x"
CALLERS = (
    "anon",
    "student",
    "classmate",
    "student_b",
    "adviser",
    "adviser_b",
    "coordinator",
    "coordinator_b",
    "ebp",
    "admin",
)
ROUTE_TABLE = api_routes([routes])


def headers(tmp_path: Path, student_id: str, who: str) -> dict[str, str]:
    if who == "anon":
        return {}
    role, user, schools = {
        "student": (Role.STUDENT, student_id, [SCHOOL]),
        "classmate": (Role.STUDENT, "student-classmate", [SCHOOL]),
        "student_b": (Role.STUDENT, "student-elsewhere", [OTHER_SCHOOL]),
        "adviser": (Role.ADVISER, "pa-1", [SCHOOL]),
        "adviser_b": (Role.ADVISER, "pa-2", [OTHER_SCHOOL]),
        "coordinator": (Role.COORDINATOR, "coord-1", [SCHOOL]),
        "coordinator_b": (Role.COORDINATOR, "coord-2", [OTHER_SCHOOL]),
        "ebp": (Role.EBP, "ebp-staff", [SCHOOL, OTHER_SCHOOL]),
        "admin": (Role.ADMIN, "admin-1", []),
    }[who]
    ebp_id = "ebp-kent" if role is Role.EBP else None
    token = token_for(tmp_path, user_id=user, role=role, school_ids=schools, ebp_id=ebp_id)
    return bearer(token)


def expect(default: int, **by_caller: int) -> dict[str, int]:
    table = dict.fromkeys(CALLERS, default)
    table["anon"] = 401
    table.update(by_caller)
    return table


def matrix(student_id: str) -> list[tuple[str, str, Any, dict[str, int]]]:
    appointment = {"appointment_id": f"appt-{student_id}"}
    staff_of_the_school = expect(
        403, adviser=200, coordinator=200, admin=200
    )  # other schools' staff, students and EBP staff: 403
    own_only = expect(403, student=200, classmate=404, student_b=404)
    return [
        ("GET", "/api/v1/reminders", appointment, expect(200, ebp=403)),
        ("GET", "/api/v1/messages", appointment, staff_of_the_school),
        ("GET", "/api/v1/messages", {"student_id": student_id}, staff_of_the_school),
        ("GET", "/api/v1/me/contact-preferences", None, own_only),
        ("PUT", "/api/v1/me/contact-preferences", {"parent_copy": True}, own_only),
        # Twilio's callbacks answer to Twilio's signature alone, whoever's token comes along.
        ("POST", "/api/v1/twilio/status", None, dict.fromkeys(CALLERS, 403)),
        ("POST", "/api/v1/twilio/inbound", None, dict.fromkeys(CALLERS, 403)),
    ]


def test_every_route_in_the_table_has_its_expectations_in_the_matrix() -> None:
    rows = matrix("a-student")
    covered = {template_of(ROUTE_TABLE, method, path) for method, path, _, _ in rows}
    missing = sorted(ROUTE_TABLE - covered)
    assert not missing, f"routes with no row in the authorization matrix: {missing}"
    for _, _, _, expected in rows:
        assert set(expected) == set(CALLERS)


async def test_every_route_answers_every_caller_as_the_rules_say(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with running_service(database_url, broker, tmp_path) as service:
        student = await _student(service, phone=fresh_phone())
        await service.publish(AppointmentConfirmed(**_appointment(student)), key=student)
        await eventually(lambda: reminders_of(service, f"appt-{student}"), timeout=30)
        wrong: list[str] = []
        given_reminders = set()
        for method, path, body, expected in matrix(student):
            for who in CALLERS:
                kwargs: dict[str, Any] = {"headers": headers(tmp_path, student, who)}
                if method == "GET" and body:
                    kwargs["params"] = body
                elif body is not None:
                    kwargs["json"] = body
                response = await service.client.request(method, path, **kwargs)
                await response.read()
                wrong += mismatches(method, path, response.status, expected, who)
                if response.status >= 400:
                    assert response.content_type == "application/problem+json", (method, path)
                elif path == "/api/v1/reminders" and (await response.json())["items"]:
                    given_reminders.add(who)
        assert not wrong, "\n".join(wrong)
        assert given_reminders == {"student", "adviser", "coordinator", "admin"}


async def reminders_of(service: Running, appointment_id: str) -> bool:
    async with service.client.app[NOTIFICATIONS].db.read_session() as s:
        found = await s.scalar(
            sa.select(reminders.c.id).where(reminders.c.appointment_id == appointment_id)
        )
    return found is not None
