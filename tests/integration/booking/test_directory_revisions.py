"""Every change booking announces on `directory.events` carries a higher revision."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from services.booking.adapters.orm import accounts, schools, students
from services.booking.application.directory_rows import natural_id
from services.booking.application.erasure import EraseStudent, erase_student
from services.booking.bootstrap import MIGRATIONS, task_unit_of_work
from services.booking.domain.model import Role
from shared.db import Database
from shared.messaging.tables import outbox
from shared.migrations import upgrade
from tests.integration.booking.test_directory_import import SCHOOLS, STUDENTS, run

SAM = natural_id("student", "sch-1", "A001")
STAFF = "email,role,name,schools,phone\n"


async def announced(db: Database, key: str) -> list[tuple[str, int]]:
    """(type, revision) of each event about `key`, in the order they were written."""
    async with db.read_session() as s:
        bodies = (
            await s.execute(
                sa.select(outbox.c.body).where(outbox.c.key == key).order_by(outbox.c.seq)
            )
        ).scalars()
        return [(e["type"], e["data"]["revision"]) for e in map(json.loads, bodies)]


async def stored_revision(db: Database, table: sa.Table, record_id: str) -> int | None:
    async with db.read_session() as s:
        found: int | None = await s.scalar(
            sa.select(table.c.revision).where(table.c.id == record_id)
        )
        return found


async def test_successive_changes_to_a_school_and_a_student_have_rising_revisions(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        await upgrade(db, MIGRATIONS)
        await run(db, "schools", SCHOOLS)
        await run(db, "schools", SCHOOLS.replace("Ashcombe Academy", "Ashcombe College"))
        await run(db, "schools", SCHOOLS.replace("08:30,15:30", "08:40,15:30"))
        school = "directory.school.upserted"
        assert await announced(db, "sch-1") == [(school, 1), (school, 2), (school, 3)]
        assert await announced(db, "sch-2") == [(school, 1)]
        assert await stored_revision(db, schools, "sch-1") == 3

        await run(db, "students", STUDENTS)
        await run(db, "students", STUDENTS.replace("sch-1,A001,11,", "sch-1,A001,12,"))
        # Only the parent's email changes: it travels in the student's event, so it counts.
        moved = STUDENTS.replace("sch-1,A001,11,", "sch-1,A001,12,")
        await run(db, "students", moved.replace("carer@example.org", "carer2@example.org"))
        student = "directory.student.upserted"
        assert await announced(db, SAM) == [(student, 1), (student, 2), (student, 3)]

        async with task_unit_of_work(db) as uow:
            erase = EraseStudent(SAM, Role.ADMIN)
            await erase_student(
                erase, uow, datetime.now(UTC), timedelta(hours=4), token_ttl=timedelta(minutes=15)
            )
        # The erasure supersedes the upserts no relay has published yet (they are dropped
        # from the outbox with the student's details) and goes out one revision on.
        assert await announced(db, SAM) == [("directory.student.erased", 4)]
    finally:
        await db.dispose()


async def test_imports_running_at_once_never_share_a_revision(database_url: str) -> None:
    db = Database(database_url)
    try:
        await upgrade(db, MIGRATIONS)
        await run(db, "schools", SCHOOLS)
        names = [f"Ashcombe {n}" for n in range(4)]
        await asyncio.gather(
            *(run(db, "schools", SCHOOLS.replace("Ashcombe Academy", name)) for name in names)
        )
        revisions = [revision for _, revision in await announced(db, "sch-1")]
        assert sorted(revisions) == [1, 2, 3, 4, 5]
        assert await stored_revision(db, schools, "sch-1") == 5
    finally:
        await db.dispose()


async def test_a_change_to_a_member_of_staff_raises_their_revision(database_url: str) -> None:
    db = Database(database_url)
    try:
        await upgrade(db, MIGRATIONS)
        await run(db, "schools", SCHOOLS)
        await run(db, "staff", STAFF + "kim@school.example,coordinator,Kim,sch-1,\n")
        await run(db, "staff", STAFF + "kim@school.example,coordinator,Kim,sch-1,+447700900123\n")
        kim = natural_id("staff", "kim@school.example")
        staff = "directory.staff.upserted"
        assert await announced(db, kim) == [(staff, 1), (staff, 2)]
        assert await stored_revision(db, accounts, kim) == 2
    finally:
        await db.dispose()


async def test_re_importing_unchanged_files_announces_nothing_and_keeps_revisions(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        await upgrade(db, MIGRATIONS)
        for _ in range(2):
            await run(db, "schools", SCHOOLS)
            await run(db, "students", STUDENTS)
        assert await announced(db, "sch-1") == [("directory.school.upserted", 1)]
        assert await announced(db, SAM) == [("directory.student.upserted", 1)]
        assert await stored_revision(db, students, SAM) == 1
    finally:
        await db.dispose()
