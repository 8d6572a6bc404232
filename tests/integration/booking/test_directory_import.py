"""`signpost directory import`: all-or-nothing, every fault by line and field, idempotent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.booking.adapters.orm import contacts, schools, students
from services.booking.application.directory import ImportDirectory, import_directory
from services.booking.application.directory_records import KINDS
from services.booking.application.directory_rows import natural_id
from services.booking.bootstrap import MIGRATIONS, task_unit_of_work, utc_now
from shared.csvimport import CsvImportError, parse_csv
from shared.db import Database
from shared.messaging.tables import outbox
from shared.migrations import upgrade

SCHOOLS = """id,name,day_starts,day_ends,postcode_district
sch-1,Ashcombe Academy,08:30,15:30,ME14
sch-2,Brookfield School,08:45,15:15,CT1
"""
HEADER = (
    "school_id,reference,year_group,display_name,priority_flags,student_phone,"
    "student_sms_consent,parent_email,parent_email_consent,parent_preferred\n"
)
STUDENTS = (
    HEADER
    + "sch-1,A001,11,Sam,neet_risk;sen,+447700900001,true,carer@example.org,true,email\n"
    + """sch-1,A002,10,Alex,,,,,,
sch-2,B001,12,Jo,,,,,,
"""
)
BAD_STUDENTS = (
    HEADER
    + """sch-1,A001,11,Sam,neet_risk,+447700900001,true,,,
sch-1,A002,14,Alex,,,,,,
sch-9,A003,10,Kim,,,,,,
sch-1,A004,10,Lee,rich,0770090,,not-an-email,,
sch-1,A001,11,Sam again,,,,,,
"""
)


async def run(db: Database, kind: str, text: str) -> object:
    spec = KINDS[kind]
    rows = parse_csv(text, spec.row, unique=spec.unique)
    async with task_unit_of_work(db) as uow:
        return await import_directory(ImportDirectory(kind, rows), uow, utc_now())


async def counts(db: Database) -> tuple[int, int, int, int]:
    async with db.read_session() as s:
        return tuple(  # type: ignore[return-value]
            [
                await s.scalar(sa.select(sa.func.count()).select_from(t))
                for t in (schools, students, contacts, outbox)
            ]
        )


async def test_a_file_with_bad_rows_is_refused_whole_naming_line_and_field(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        await upgrade(db, MIGRATIONS)
        await run(db, "schools", SCHOOLS)
        before = await counts(db)
        with pytest.raises(CsvImportError) as refused:
            await run(db, "students", BAD_STUDENTS)
        where = {(e.line, e.field) for e in refused.value.errors}
        assert {
            (3, "year_group"),
            (5, "priority_flags.0"),
            (5, "student_phone"),
            (5, "parent_email"),
            (6, "reference"),
        } <= where
        assert await counts(db) == before

        # a reference to an unknown school is found against the database, also all-or-nothing
        unknown = BAD_STUDENTS.splitlines()
        with pytest.raises(CsvImportError) as missing:
            await run(db, "students", "\n".join([unknown[0], unknown[1], unknown[3]]) + "\n")
        assert [(e.line, e.field) for e in missing.value.errors] == [(3, "school_id")]
        assert await counts(db) == before
    finally:
        await db.dispose()


async def test_re_importing_the_same_file_changes_nothing(database_url: str) -> None:
    db = Database(database_url)
    try:
        await upgrade(db, MIGRATIONS)
        await run(db, "schools", SCHOOLS)
        first = await run(db, "students", STUDENTS)
        after_first = await counts(db)
        again = await run(db, "students", STUDENTS)
        assert (first.written, again.written, again.unchanged) == (3, 0, 3)  # type: ignore[attr-defined]
        assert await counts(db) == after_first
        async with db.read_session() as s:
            events = [json.loads(b) for b in (await s.execute(sa.select(outbox.c.body))).scalars()]
            flags = await s.scalar(
                sa.select(students.c.priority_flags).where(students.c.reference == "A001")
            )
        assert flags == ["neet_risk", "sen"]
        student_events = [e for e in events if e["type"] == "directory.student.upserted"]
        assert len(student_events) == 3
        text = json.dumps(student_events)
        assert "Sam" not in text and "neet_risk" not in text  # names and flags stay home
        assert student_events[0]["data"]["sen"] is True
    finally:
        await db.dispose()


def directory_command(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`signpost directory ARGS` as a process, on a SQLite database under `tmp_path`."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/booking.db",
        "SIGNPOST_DATA_DIR": str(tmp_path),
        "SIGNPOST_ENV": "test",
    }
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "directory", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_command_reports_faults_and_imports_a_good_file(tmp_path: Path) -> None:
    (tmp_path / "schools.csv").write_text(SCHOOLS)
    (tmp_path / "bad.csv").write_text(BAD_STUDENTS)

    def signpost(*args: str) -> subprocess.CompletedProcess[str]:
        return directory_command(tmp_path, "import", *args)

    good = signpost("schools", str(tmp_path / "schools.csv"))
    assert good.returncode == 0, good.stderr
    assert "2 rows, 2 written, 0 unchanged" in good.stderr
    bad = signpost("students", str(tmp_path / "bad.csv"))
    assert bad.returncode == 1
    assert "nothing was imported" in bad.stderr
    assert "line 3, field 'year_group'" in bad.stderr
    again = signpost("schools", str(tmp_path / "schools.csv"))
    assert "0 written, 2 unchanged" in again.stderr


def test_the_command_erases_a_student_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    (tmp_path / "schools.csv").write_text(SCHOOLS)
    (tmp_path / "students.csv").write_text(HEADER + "sch-1,A001,11,Sam,,+447700900001,true,,,\n")

    def signpost(*args: str) -> subprocess.CompletedProcess[str]:
        return directory_command(tmp_path, *args)

    for kind in ("schools", "students"):
        loaded = signpost("import", kind, str(tmp_path / f"{kind}.csv"))
        assert loaded.returncode == 0, loaded.stderr
    sam = natural_id("student", "sch-1", "A001")

    unknown = signpost("erase-student", "nobody", "--by", "J. Smith (DPO)")
    assert unknown.returncode == 1
    assert "no such student; nothing was changed" in unknown.stderr
    erased = signpost("erase-student", sam, "--by", "J. Smith (DPO)")
    assert erased.returncode == 0, erased.stderr
    assert f"{sam}: erased; 0 upcoming appointments cancelled" in erased.stderr
    again = signpost("erase-student", sam, "--by", "J. Smith (DPO)")
    assert again.returncode == 1
