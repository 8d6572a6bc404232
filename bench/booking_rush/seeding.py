"""Seeding the bench database: the school, its advisers and agreement, and signed-in students."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bench.booking_rush.cohort import SCHOOL, released_week, session_id, student_id
from services.booking.adapters.orm import accounts, sessions, students
from services.booking.application.agreements import (
    AgreementTerms,
    AttendanceTerms,
    SaveAgreement,
    academic_year_of,
    save_agreement,
)
from services.booking.application.directory import ImportDirectory, import_directory
from services.booking.application.directory_rows import AdviserRow, PeriodRow, SchoolRow
from services.booking.bootstrap import MIGRATIONS, task_unit_of_work
from shared.auth.principal import Role
from shared.csvimport import ParsedRow
from shared.db import Database
from shared.migrations import upgrade


async def seed(url: str, n_students: int, n_advisers: int) -> None:
    """One school, its advisers every weekday all day, and `n_students` students."""
    db = Database(url)
    try:
        await upgrade(db, MIGRATIONS)
        week = released_week()
        rows: dict[str, list[Any]] = {
            "schools": [SchoolRow(id=SCHOOL, name="Rush Academy")],
            "periods": [
                PeriodRow(
                    school_id=SCHOOL,
                    kind="term",
                    first_day=week - timedelta(days=60),
                    last_day=week + timedelta(days=60),
                )
            ],
            "advisers": [
                AdviserRow(
                    id=f"bench-pa-{a:02d}",
                    name=f"Adviser {a}",
                    kinds=["guidance"],
                    email=f"pa{a}@bench.example",
                    schools=[SCHOOL],
                )
                for a in range(n_advisers)
            ],
        }
        for kind, records in rows.items():
            async with task_unit_of_work(db) as uow:
                cmd = ImportDirectory(kind, [ParsedRow(2, r) for r in records])
                await import_directory(cmd, uow, datetime.now(UTC))
        async with db.session() as s:
            await s.execute(
                students.insert(),
                [
                    {
                        "id": student_id(n),
                        "school_id": SCHOOL,
                        "year_group": 11,
                        "priority_flags": [],
                    }
                    for n in range(n_students)
                ],
            )
            # Each student signed in: an account and an open session, which every booking
            # request checks (the service remembers an active session for a few seconds).
            now = datetime.now(UTC)
            await s.execute(
                accounts.insert(),
                [
                    {
                        "id": student_id(n),
                        "email": f"{student_id(n)}@bench.example",
                        "role": Role.STUDENT.value,
                        "school_ids": [SCHOOL],
                        "person_id": student_id(n),
                        "created_at": now,
                    }
                    for n in range(n_students)
                ],
            )
            await s.execute(
                sessions.insert(),
                [
                    {
                        "id": session_id(n),
                        "account_id": student_id(n),
                        "created_at": now,
                        "expires_at": now + timedelta(hours=8),
                    }
                    for n in range(n_students)
                ],
            )
        terms = AgreementTerms(
            confidential_room="Careers room",
            attendances=[
                AttendanceTerms(adviser_id=f"bench-pa-{a:02d}", weekdays=[0, 1, 2, 3, 4])
                for a in range(n_advisers)
            ],
            minimum_notice_minutes=0,
            horizon_days=28,
            priority_share=0.0,
        )
        for year in {academic_year_of(week), academic_year_of(week + timedelta(days=6))}:
            async with task_unit_of_work(db) as uow:
                await save_agreement(SaveAgreement(SCHOOL, year, terms), uow, datetime.now(UTC))
    finally:
        await db.dispose()
