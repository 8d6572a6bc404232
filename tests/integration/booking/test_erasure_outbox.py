"""Erasing a student leaves none of their personal data in booking's outbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from services.booking.application.directory import ImportDirectory, import_directory
from services.booking.application.directory_records import KINDS
from services.booking.application.directory_rows import natural_id
from services.booking.application.erasure import EraseStudent, erase_student
from services.booking.bootstrap import MIGRATIONS, task_unit_of_work
from services.booking.domain.model import Role
from shared.csvimport import parse_csv
from shared.db import Database
from shared.messaging.tables import outbox
from shared.migrations import upgrade

SCHOOLS = """id,name,day_starts,day_ends,postcode_district
sch-1,Ashcombe Academy,08:30,15:30,ME14
"""
HEADER = (
    "school_id,reference,year_group,display_name,priority_flags,student_phone,"
    "student_sms_consent,parent_email,parent_email_consent,parent_preferred\n"
)


def students_csv(sams_year: int) -> str:
    return (
        HEADER
        + f"sch-1,A001,{sams_year},Sam,sen,+447700900001,true,carer@example.org,true,email\n"
        + "sch-1,A002,10,Alex,,+447700900009,true,,,\n"
    )


async def load(db: Database, kind: str, text: str) -> None:
    spec = KINDS[kind]
    async with task_unit_of_work(db) as uow:
        rows = parse_csv(text, spec.row, unique=spec.unique)
        await import_directory(ImportDirectory(kind, rows), uow, datetime.now(UTC))


async def mark(db: Database, **values: object) -> None:
    """What the relay does: here to every row not yet published or parked."""
    async with db.session() as s:
        await s.execute(outbox.update().where(outbox.c.status == "pending").values(**values))


async def test_erasing_a_student_drops_their_unsent_events_and_blanks_the_sent_ones(
    database_url: str,
) -> None:
    db = Database(database_url)
    sam, alex = natural_id("student", "sch-1", "A001"), natural_id("student", "sch-1", "A002")
    published_at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    try:
        await upgrade(db, MIGRATIONS)
        await load(db, "schools", SCHOOLS)
        await load(db, "students", students_csv(11))
        await mark(db, status="published", published_at=published_at)
        await load(db, "students", students_csv(12))
        await mark(
            db, status="failed", failed_at=published_at, last_error="MessageSizeTooLargeError"
        )
        await load(db, "students", students_csv(13))
        async with db.read_session() as s:
            before = {
                r.event_id: r
                for r in (await s.execute(sa.select(outbox).where(outbox.c.key == sam))).all()
            }
        async with task_unit_of_work(db) as uow:
            erase = EraseStudent(sam, Role.ADMIN)
            await erase_student(
                erase, uow, datetime.now(UTC), timedelta(hours=4), token_ttl=timedelta(minutes=15)
            )
        async with db.read_session() as s:
            after = (
                await s.execute(sa.select(outbox).where(outbox.c.key == sam).order_by(outbox.c.seq))
            ).all()
            alexs = (await s.execute(sa.select(outbox.c.body).where(outbox.c.key == alex))).all()
    finally:
        await db.dispose()

    sent = [r for r in after if r.status == "published"]
    unsent = [r for r in after if r.status != "published"]
    assert [r.event_type for r in sent] == ["directory.student.upserted"]
    assert [r.event_type for r in unsent] == ["directory.student.erased"]
    assert [r.event_type for r in before.values()].count("directory.student.upserted") == 3
    for r in sent:
        envelope = json.loads(r.body)
        assert (envelope["id"], envelope["type"], envelope["key"]) == (
            r.event_id,
            r.event_type,
            sam,
        )
        assert envelope["data"] == {} and envelope["redacted"] is True
    assert all("+4477009" not in r.body and "carer@" not in r.body for r in after)
    for r in sent:  # what stays: the row's identity and times
        kept = before[r.event_id]
        assert (r.seq, r.event_type, r.created_at, r.published_at) == (
            kept.seq,
            kept.event_type,
            kept.created_at,
            published_at,
        )
    assert any("+447700900009" in body for (body,) in alexs)  # another student's stay whole
