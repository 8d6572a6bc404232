"""The JSON reads staff pages need: a school's appointments and an adviser's diary over local
dates, and a search for a school's students that names them only to coordinators and admins."""

from __future__ import annotations

from pathlib import Path

from services.booking.adapters.orm import students
from tests.integration.booking.world import (
    PA_1,
    SCHOOL_A,
    first_free_morning,
    london,
    student_id,
    world,
)


async def test_staff_list_a_schools_appointments_and_an_advisers_diary_by_local_dates(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path) as w:
        day = first_free_morning()
        booked = await (await w.book(w.student(0), london(day, 9))).json()
        dates = {"from": day.isoformat(), "to": day.isoformat()}
        school = {"school_id": SCHOOL_A, **dates}
        listed = await w.client.get("/api/v1/appointments", params=school, headers=w.coordinator())
        assert listed.status == 200
        [found] = (await listed.json())["appointments"]
        assert found["id"] == booked["id"] and found["referral"] is None

        diary = {"adviser_id": booked["adviser_id"], **dates}
        as_admin = await w.client.get("/api/v1/appointments", params=diary, headers=w.admin())
        assert [a["id"] for a in (await as_admin.json())["appointments"]] == [booked["id"]]
        own = w.adviser(booked["adviser_id"])
        mine = await w.client.get("/api/v1/appointments", params=diary, headers=own)
        assert [a["id"] for a in (await mine.json())["appointments"]] == [booked["id"]]
        other = PA_1 if booked["adviser_id"] != PA_1 else "pa-2"
        refused = await w.client.get(
            "/api/v1/appointments", params={**diary, "adviser_id": other}, headers=own
        )
        assert refused.status == 403

        next_day = {"from": "2099-01-01", "to": "2099-01-01", "school_id": SCHOOL_A}
        empty = await w.client.get("/api/v1/appointments", params=next_day, headers=w.admin())
        assert (await empty.json())["appointments"] == []
        both = await w.client.get(
            "/api/v1/appointments", params={**school, "adviser_id": PA_1}, headers=w.admin()
        )
        assert both.status == 422
        too_long = {"school_id": SCHOOL_A, "from": "2030-01-01", "to": "2030-06-01"}
        long = await w.client.get("/api/v1/appointments", params=too_long, headers=w.admin())
        assert long.status == 422


async def test_a_student_search_names_students_to_coordinators_and_initials_to_advisers(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path) as w:
        async with w.db.session() as s:
            await s.execute(
                students.update()
                .where(students.c.id == student_id(3))
                .values(display_name="Ruby Quinn")
            )
        path = f"/api/v1/schools/{SCHOOL_A}/students/search"
        named = await w.client.post(path, json={"text": "quinn"}, headers=w.coordinator())
        [found] = (await named.json())["students"]
        assert found["id"] == student_id(3)
        assert (found["display_name"], found["initials"]) == ("Ruby Quinn", "RQ")

        unnamed = await w.client.post(path, json={"text": "quinn"}, headers=w.adviser())
        [seen] = (await unnamed.json())["students"]
        assert (seen["display_name"], seen["initials"]) == (None, "RQ")

        by_reference = await w.client.post(path, json={"text": "R0003"}, headers=w.admin())
        assert [s["id"] for s in (await by_reference.json())["students"]] == [student_id(3)]
        too_short = await w.client.post(path, json={"text": "q"}, headers=w.coordinator())
        assert too_short.status == 422


async def test_the_directory_reads_show_staff_their_schools_calendars_and_students(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path) as w:
        mine = await (await w.client.get("/api/v1/schools", headers=w.coordinator())).json()
        assert [s["id"] for s in mine["schools"]] == [SCHOOL_A]
        every = await (await w.client.get("/api/v1/schools", headers=w.admin())).json()
        assert [s["name"] for s in every["schools"]] == ["School A", "School B"]
        assert every["schools"][0]["rooms"] is None  # the list leaves the details out

        school = await w.client.get(f"/api/v1/schools/{SCHOOL_A}", headers=w.coordinator())
        assert school.status == 200, await school.text()
        found = await school.json()
        assert (found["id"], found["day_starts"], found["day_ends"]) == (
            SCHOOL_A,
            "08:30:00",
            "15:30:00",
        )
        assert [p["kind"] for p in found["periods"]] == ["term"]
        assert isinstance(found["rooms"], list)
        other = await w.client.get("/api/v1/schools/school-b", headers=w.coordinator())
        assert other.status == 403
        missing = await w.client.get("/api/v1/schools/no-such-school", headers=w.admin())
        assert missing.status == 404

        pupil = student_id(0)
        as_staff = await w.client.get(f"/api/v1/students/{pupil}", headers=w.coordinator())
        record = await as_staff.json()
        assert (record["id"], record["school_id"]) == (pupil, SCHOOL_A)
        assert isinstance(record["priority_flags"], list)
        as_self = await (
            await w.client.get(f"/api/v1/students/{pupil}", headers=w.student(0))
        ).json()
        assert as_self["priority_flags"] is None  # only the staff who act on them
        elsewhere = await w.client.get(
            f"/api/v1/students/{student_id(0, 'school-b')}", headers=w.coordinator()
        )
        assert elsewhere.status == 404
