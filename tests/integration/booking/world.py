"""A small, fully known world for booking's integration tests, built through the import
and agreement use cases the operators use (so those are exercised on every backend).

School A has two advisers on weekday mornings (09:00-12:00, 40-minute interviews, no
reserved share); school B has one adviser on Mondays. Terms run from a month ago to well
over a year ahead, and the horizon is long enough to reach both clock changes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient

from services.booking.adapters.orm import dropin_sessions
from services.booking.application.agreements import (
    AgreementTerms,
    AttendanceTerms,
    SaveAgreement,
    academic_year_bounds,
    academic_year_of,
    save_agreement,
)
from services.booking.application.directory import ImportDirectory, import_directory
from services.booking.application.directory_rows import (
    AdviserRow,
    PeriodRow,
    SchoolRow,
    StaffRow,
    StudentRow,
    natural_id,
)
from services.booking.bootstrap import create_app, task_unit_of_work
from services.booking.settings import BookingSettings
from shared.auth.principal import Role
from shared.csvimport import ParsedRow
from shared.db import Database
from tests.support import app_client, bearer, settings_for, token_for

LONDON = ZoneInfo("Europe/London")
SCHOOL_A, SCHOOL_B = "school-a", "school-b"
PA_1, PA_2, PA_3 = "pa-1", "pa-2", "pa-3"
COORDINATOR_EMAIL = "coordinator@a.example"


def student_id(n: int, school: str = SCHOOL_A) -> str:
    return natural_id("student", school, f"R{n:04d}")


def coordinator_id(email: str = COORDINATOR_EMAIL) -> str:
    return natural_id("staff", email)


def london(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def next_weekday(after: date, weekday: int = 0) -> date:
    """The first `weekday` (0 is Monday) strictly after `after`."""
    day = after + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def rows(model: type[Any], *records: dict[str, Any]) -> list[ParsedRow[Any]]:
    return [ParsedRow(n + 2, model.model_validate(r)) for n, r in enumerate(records)]


@dataclass
class World:
    client: TestClient[Any, Any]
    db: Database
    data_dir: Path
    settings: BookingSettings
    students: int
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, role: Role, user_id: str, schools: tuple[str, ...] = (SCHOOL_A,)) -> str:
        key = f"{role}:{user_id}:{schools}"
        if key not in self.tokens:
            self.tokens[key] = token_for(
                self.data_dir, user_id=user_id, role=role, school_ids=schools
            )
        return self.tokens[key]

    def student(self, n: int = 0) -> dict[str, str]:
        return bearer(self.token(Role.STUDENT, student_id(n)))

    def coordinator(self, school: str = SCHOOL_A) -> dict[str, str]:
        return bearer(self.token(Role.COORDINATOR, coordinator_id(), (school,)))

    def adviser(
        self, adviser_id: str = PA_1, schools: tuple[str, ...] = (SCHOOL_A,)
    ) -> dict[str, str]:
        return bearer(self.token(Role.ADVISER, adviser_id, schools))

    def admin(self) -> dict[str, str]:
        return bearer(self.token(Role.ADMIN, "admin-1", ()))

    def ebp(self) -> dict[str, str]:
        return bearer(self.token(Role.EBP, "ebp-1", (SCHOOL_A, SCHOOL_B)))

    async def live_dropin(self, session_id: str = "live") -> None:
        """A drop-in session with PA 1 at school A that is running now, so its queue is open."""
        now = datetime.now(UTC)
        async with self.db.session() as s:
            await s.execute(
                dropin_sessions.insert().values(
                    id=session_id,
                    school_id=SCHOOL_A,
                    adviser_id=PA_1,
                    starts_at=now - timedelta(minutes=5),
                    ends_at=now + timedelta(minutes=55),
                    location="Careers room",
                    slot_minutes=15,
                )
            )

    async def book(self, headers: dict[str, str], starts_at: datetime, **extra: Any) -> Any:
        body = {"slot": {"school_id": SCHOOL_A, "starts_at": starts_at.isoformat()}, **extra}
        return await self.client.post("/api/v1/appointments", json=body, headers=headers)


async def _import(db: Database, kind: str, records: list[ParsedRow[Any]]) -> None:
    async with task_unit_of_work(db) as uow:
        await import_directory(ImportDirectory(kind, records), uow, datetime.now(UTC))


def agreement_terms(**changes: Any) -> AgreementTerms:
    base: dict[str, Any] = {
        "confidential_room": "Careers room",
        "attendances": [
            AttendanceTerms(adviser_id=PA_1, weekdays=[0, 1, 2, 3, 4], start=time(9), end=time(12)),
            AttendanceTerms(adviser_id=PA_2, weekdays=[0, 1, 2, 3, 4], start=time(9), end=time(12)),
        ],
        "minimum_notice_minutes": 60,
        "horizon_days": 400,
        "priority_share": 0.0,
    }
    base.update(changes)
    return AgreementTerms.model_validate(base)


async def build_world(
    db: Database, *, students: int = 10, terms: AgreementTerms | None = None
) -> None:
    today = date.today()
    await _import(
        db,
        "schools",
        rows(
            SchoolRow,
            {"id": SCHOOL_A, "name": "School A", "day_starts": "08:30", "day_ends": "15:30"},
            {"id": SCHOOL_B, "name": "School B", "day_starts": "08:30", "day_ends": "15:30"},
        ),
    )
    await _import(
        db,
        "periods",
        rows(
            PeriodRow,
            *(
                {
                    "school_id": s,
                    "kind": "term",
                    "first_day": today - timedelta(days=30),
                    "last_day": today + timedelta(days=500),
                }
                for s in (SCHOOL_A, SCHOOL_B)
            ),
        ),
    )
    await _import(
        db,
        "advisers",
        rows(
            AdviserRow,
            {
                "id": PA_1,
                "name": "Pat One",
                "kinds": "guidance",
                "email": "pa1@x.example",
                "schools": SCHOOL_A,
                "lead_for": SCHOOL_A,
            },
            {
                "id": PA_2,
                "name": "Pat Two",
                "kinds": "guidance;intensive_support",
                "email": "pa2@x.example",
                "schools": SCHOOL_A,
            },
            {
                "id": PA_3,
                "name": "Pat Three",
                "kinds": "guidance",
                "email": "pa3@x.example",
                "schools": SCHOOL_B,
            },
        ),
    )
    await _import(
        db,
        "students",
        rows(
            StudentRow,
            *(
                {
                    "school_id": SCHOOL_A,
                    "reference": f"R{n:04d}",
                    "year_group": 7 + n % 7,
                    "priority_flags": "neet_risk" if n % 10 == 9 else "",
                    "student_phone": f"+4477009{n:05d}",
                    "student_sms_consent": "true",
                }
                for n in range(students)
            ),
            {"school_id": SCHOOL_B, "reference": "R0000", "year_group": 11},
        ),
    )
    await _import(
        db,
        "staff",
        rows(
            StaffRow,
            {
                "email": COORDINATOR_EMAIL,
                "role": "coordinator",
                "name": "Coord",
                "schools": SCHOOL_A,
            },
        ),
    )
    year = academic_year_of(today)
    following = academic_year_of(academic_year_bounds(year)[1] + timedelta(days=1))
    for academic_year in (year, following):
        now = datetime.now(UTC)
        async with task_unit_of_work(db) as uow:
            cmd = SaveAgreement(SCHOOL_A, academic_year, terms or agreement_terms())
            await save_agreement(cmd, uow, now)
        async with task_unit_of_work(db) as uow:
            only_pa_3 = agreement_terms(
                attendances=[AttendanceTerms(adviser_id=PA_3, weekdays=[0])]
            )
            await save_agreement(SaveAgreement(SCHOOL_B, academic_year, only_pa_3), uow, now)


@asynccontextmanager
async def world(
    database_url: str,
    broker: str,
    data_dir: Path,
    *,
    students: int = 10,
    terms: AgreementTerms | None = None,
    **settings: str,
) -> AsyncIterator[World]:
    config = settings_for(
        BookingSettings, database_url=database_url, broker=broker, data_dir=data_dir, **settings
    )
    async with app_client(create_app, config) as client:
        db = Database(database_url, pool_size=20)
        try:
            await build_world(db, students=students, terms=terms)
            yield World(client, db, data_dir, config, students)
        finally:
            await db.dispose()


def first_free_morning(days_ahead: int = 2) -> date:
    """A weekday comfortably past the minimum notice."""
    day = date.today() + timedelta(days=days_ahead)
    while day.weekday() > 4:
        day += timedelta(days=1)
    return day
