"""Placements' copies of schools and students never go back to an older revision."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.directory_copies import DirectoryUnitOfWork
from services.placements.adapters.orm import erased_students, schools, students
from services.placements.application.directory import HANDLERS
from services.placements.bootstrap import MIGRATIONS
from shared.db import Database
from shared.events import Envelope, Event, EventPayload
from shared.events.directory import SchoolUpserted, StudentErased, StudentUpserted
from shared.migrations import upgrade

SCHOOL, STUDENT = "school-r", "student-r"


def school(revision: int, name: str) -> SchoolUpserted:
    return SchoolUpserted(
        school_id=SCHOOL,
        name=name,
        day_starts=time(8, 30),
        day_ends=time(15, 30),
        revision=revision,
    )


def student(revision: int, year_group: int) -> StudentUpserted:
    return StudentUpserted(
        student_id=STUDENT,
        school_id=SCHOOL,
        year_group=year_group,
        date_of_birth=date(2011, 5, 1),
        revision=revision,
    )


def copies(db: Database, session: AsyncSession) -> DirectoryUnitOfWork:
    return DirectoryUnitOfWork(db, producer="placements").within(session)


async def deliver(db: Database, *events: EventPayload) -> None:
    """Each event as the consumer hands it over: its own envelope, its own transaction."""
    for event in events:
        key = getattr(event, "school_id" if isinstance(event, SchoolUpserted) else "student_id")
        async with db.session() as s:
            envelope = Envelope.wrap(event, key=key, producer="booking")
            await HANDLERS[event.event_type](Event(envelope, event), copies(db, s))


async def copy_of(db: Database, table: sa.Table, record_id: str) -> dict[str, Any] | None:
    async with db.read_session() as s:
        row = (await s.execute(sa.select(table).where(table.c.id == record_id))).first()
        return None if row is None else dict(row._mapping)


async def migrated(url: str) -> Database:
    db = Database(url)
    await upgrade(db, MIGRATIONS)
    return db


async def test_e7_e5_e7_leaves_each_copy_at_e7(database_url: str) -> None:
    db = await migrated(database_url)
    try:
        await deliver(db, school(7, "Seven"), school(5, "Five"), school(7, "Seven"))
        await deliver(db, student(7, 11), student(5, 10), student(7, 11))
        assert await copy_of(db, schools, SCHOOL) == {
            "id": SCHOOL,
            "name": "Seven",
            "postcode_district": None,
            "latitude": None,
            "longitude": None,
            "revision": 7,
        }
        copy = await copy_of(db, students, STUDENT)
        assert copy is not None and (copy["year_group"], copy["revision"]) == (11, 7)
    finally:
        await db.dispose()


async def test_an_older_upsert_after_a_newer_one_changes_nothing(database_url: str) -> None:
    db = await migrated(database_url)
    try:
        await deliver(db, school(3, "Three"), student(3, 11))
        before = (await copy_of(db, schools, SCHOOL), await copy_of(db, students, STUDENT))
        await deliver(db, school(2, "Two"), student(2, 9), school(1, "One"), student(1, 8))
        after = (await copy_of(db, schools, SCHOOL), await copy_of(db, students, STUDENT))
        assert after == before
        assert after[0] is not None and after[0]["name"] == "Three"
    finally:
        await db.dispose()


async def test_an_equal_revision_replay_is_harmless(database_url: str) -> None:
    db = await migrated(database_url)
    try:
        await deliver(db, school(4, "Four"), student(4, 10))
        before = (await copy_of(db, schools, SCHOOL), await copy_of(db, students, STUDENT))
        await deliver(db, school(4, "Four"), student(4, 10), school(4, "Four"))
        assert (await copy_of(db, schools, SCHOOL), await copy_of(db, students, STUDENT)) == before
        async with db.read_session() as s:
            assert await s.scalar(sa.select(sa.func.count()).select_from(students)) == 1
    finally:
        await db.dispose()


async def test_an_upsert_after_erasure_does_not_bring_the_student_back(
    database_url: str,
) -> None:
    db = await migrated(database_url)
    try:
        erased = StudentErased(student_id=STUDENT, school_id=SCHOOL, revision=3)
        await deliver(db, student(2, 10), erased)
        # A late upsert from before the erasure, a replayed erasure, then a new import of
        # the same pupil under the same id: the copy stays gone.
        await deliver(db, student(1, 10), erased, student(2, 10), student(9, 11))
        assert await copy_of(db, students, STUDENT) is None
        tombstone = await copy_of(db, erased_students, STUDENT)
        assert tombstone is not None
        assert set(tombstone) == {"id", "revision", "erased_at"}  # nothing personal
        assert (tombstone["id"], tombstone["revision"]) == (STUDENT, 3)
    finally:
        await db.dispose()


async def test_events_from_before_revisions_still_update_a_copy_that_has_none(
    database_url: str,
) -> None:
    db = await migrated(database_url)
    try:
        unrevised = school(0, "Old producer")
        await deliver(db, unrevised, school(0, "Old producer again"))
        copy = await copy_of(db, schools, SCHOOL)
        assert copy is not None and (copy["name"], copy["revision"]) == ("Old producer again", 0)
        await deliver(db, school(2, "New producer"), unrevised)
        copy = await copy_of(db, schools, SCHOOL)
        assert copy is not None and (copy["name"], copy["revision"]) == ("New producer", 2)
    finally:
        await db.dispose()
