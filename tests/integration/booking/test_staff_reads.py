"""What staff pages read: a student search within one school, students' names by id, and
an adviser's appointments at any school."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.booking.adapters.uow import BookingReads
from services.booking.application.availability import find_slots
from services.booking.application.booking import BookSlot, book_slot
from services.booking.application.cache import ReferenceCache
from services.booking.bootstrap import create_app, task_unit_of_work
from services.booking.demo import demo_id, demo_name, seed
from services.booking.domain.model import Role, SessionType
from services.booking.settings import BookingSettings
from shared.db import Database
from tests.support import app_client, settings_for


async def test_staff_find_students_of_their_school_by_name_and_see_initials(
    broker: str, database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(
        BookingSettings, database_url=database_url, broker=broker, data_dir=tmp_path
    )
    async with app_client(create_app, settings):
        db = Database(database_url)
        try:
            await seed(db, students_total=60, advisers_total=4)
            async with db.read_session() as session:
                reads = BookingReads(session, ReferenceCache(time.monotonic))
                school = demo_id("school", 0)
                surname = demo_name(0).split()[1]
                found = await reads.students.search(school, surname.lower())
                wildcard = await reads.students.search(school, "%")
                labels = await reads.students.labels([demo_id("student", 0), "nobody"])
                roll = await reads.students.of_school(school)
                names = await reads.students.labels([s.student_id for s in roll])
        finally:
            await db.dispose()
    expected = {s.id for s in names.values() if surname in (s.display_name or "")}
    assert {s.id for s in found} == expected and expected
    assert wildcard == [], "a % in the search is a character, not a wildcard"
    first, last = demo_name(0).split()
    assert labels[demo_id("student", 0)].initials == first[0] + last[0]
    assert "nobody" not in labels


async def test_an_advisers_appointments_are_theirs_only_across_schools(
    broker: str, database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(
        BookingSettings, database_url=database_url, broker=broker, data_dir=tmp_path
    )
    async with app_client(create_app, settings):
        db = Database(database_url)
        try:
            await seed(db, students_total=60, advisers_total=4)
            now = datetime.now(UTC)
            school_id = demo_id("school", 0)
            async with db.read_session() as session:
                reads = BookingReads(session, ReferenceCache(time.monotonic))
                school = await reads.schools.get(school_id)
                assert school is not None
                slots = await find_slots(
                    reads,
                    school,
                    SessionType.INTERVIEW,
                    now,
                    now + timedelta(days=56),
                    now,
                    student=None,
                    staff=True,
                )
            slot = slots[0]
            adviser = slot.adviser_ids[0]
            booked = await book_slot(
                BookSlot(
                    school_id,
                    SessionType.INTERVIEW,
                    slot.start,
                    demo_id("student", 0),
                    Role.COORDINATOR,
                    adviser,
                ),
                task_unit_of_work(db),
                now,
            )
            window = (now, now + timedelta(days=60))
            async with db.read_session() as session:
                reads = BookingReads(session, ReferenceCache(time.monotonic))
                theirs = await reads.appointments.of_adviser(adviser, *window)
                others = [
                    await reads.appointments.of_adviser(demo_id("adviser", n), *window)
                    for n in range(4)
                    if demo_id("adviser", n) != adviser
                ]
        finally:
            await db.dispose()
    assert booked.id in {a.id for a in theirs}
    assert {a.adviser_id for a in theirs} == {adviser}
    assert [a.interval.start for a in theirs] == sorted(a.interval.start for a in theirs)
    assert all(a.adviser_id != adviser for listed in others for a in listed)


async def test_the_demo_pa_has_interviews_in_the_coming_weeks_at_their_schools(
    broker: str, database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(
        BookingSettings, database_url=database_url, broker=broker, data_dir=tmp_path
    )
    async with app_client(create_app, settings):
        db = Database(database_url)
        try:
            await seed(db, students_total=60, advisers_total=4)
            now = datetime.now(UTC)
            async with db.read_session() as session:
                reads = BookingReads(session, ReferenceCache(time.monotonic))
                diary = await reads.appointments.of_adviser(
                    demo_id("adviser", 0), now, now + timedelta(days=28)
                )
                labels = await reads.students.labels([a.student_id for a in diary])
        finally:
            await db.dispose()
    assert len({a.school_id for a in diary}) >= 2, "the demo PA's diary spans their schools"
    assert all(label.display_name for label in labels.values())
