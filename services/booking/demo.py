"""The demo county for development: schools, advisers, students and the demo logins.

Deterministic (a fixed seed and name-based ids), and loaded only into an empty database.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time

import sqlalchemy as sa

from services.booking.adapters.orm import accounts, schools, students
from shared.auth.passwords import PasswordHasher
from shared.auth.principal import Role
from shared.db import Database
from shared.events.directory import (
    AdviserUpserted,
    Channel,
    ContactRole,
    ContactRoute,
    SchoolUpserted,
    StudentUpserted,
)
from shared.uow import UnitOfWork

NAMESPACE = uuid.UUID("6f1b7a52-8f7e-4f0e-9b55-5b8a3c1d2e40")
DEMO_PASSWORD = "signpost-demo"
SCHOOL_NAMES = [
    "Ashcombe Academy",
    "Brookfield School",
    "Castlemead High",
    "Dunmore Grammar",
    "Elmstead Community College",
    "Foxhollow School",
    "Greyfriars Academy",
    "Harrowden High",
    "Ivybridge Court School",
    "Juniper Vale College",
]
TOWNS = [  # postcode district and rough centre of a fictional county's towns
    ("ME14", 51.28, 0.53),
    ("CT1", 51.28, 1.08),
    ("TN23", 51.14, 0.87),
    ("DA11", 51.44, 0.36),
    ("ME7", 51.38, 0.55),
    ("CT20", 51.08, 1.17),
    ("TN9", 51.19, 0.27),
    ("CT9", 51.38, 1.38),
    ("ME10", 51.34, 0.73),
    ("TN4", 51.15, 0.25),
]


def demo_id(kind: str, n: int | str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}-{n}"))


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    email: str
    password: str
    note: str


DEMO_LOGINS = [
    DemoLogin(Role.ADMIN, "admin@demo.signpost.example", DEMO_PASSWORD, "sees everything"),
    DemoLogin(
        Role.COORDINATOR,
        "coordinator@demo.signpost.example",
        DEMO_PASSWORD,
        "careers coordinator at Ashcombe Academy",
    ),
    DemoLogin(
        Role.ADVISER,
        "adviser@demo.signpost.example",
        DEMO_PASSWORD,
        "Personal Adviser at Ashcombe Academy and Brookfield School",
    ),
    DemoLogin(
        Role.STUDENT,
        "student@demo.signpost.example",
        DEMO_PASSWORD,
        "Year 11 student at Ashcombe Academy",
    ),
    DemoLogin(
        Role.EBP,
        "ebp@demo.signpost.example",
        DEMO_PASSWORD,
        "Education Business Partnership staff for the whole county",
    ),
]


async def seed(db: Database, *, students_total: int = 2000, advisers_total: int = 20) -> bool:
    """Load the demo county if the database has no accounts yet. Returns True if it did."""
    async with db.read_session() as s:
        if await s.scalar(sa.select(sa.func.count()).select_from(accounts)):
            return False
    rng = random.Random(2026)
    hasher = PasswordHasher()
    async with UnitOfWork(db, producer="booking") as uow:
        school_ids = await _schools(uow)
        adviser_schools = await _advisers(uow, school_ids, advisers_total)
        student_ids = await _students(uow, school_ids, students_total, rng)
        await _accounts(uow, hasher, school_ids, adviser_schools, student_ids)
        await uow.commit()
    return True


async def _schools(uow: UnitOfWork) -> list[str]:
    ids = []
    for n, name in enumerate(SCHOOL_NAMES):
        school_id = demo_id("school", n)
        district, lat, lon = TOWNS[n % len(TOWNS)]
        starts, ends = time(8, 30), time(15, 30)
        await uow.session.execute(
            schools.insert().values(id=school_id, name=name, day_starts=starts, day_ends=ends)
        )
        await uow.emit(
            SchoolUpserted(
                school_id=school_id,
                name=name,
                day_starts=starts,
                day_ends=ends,
                postcode_district=district,
                latitude=lat,
                longitude=lon,
            ),
            key=school_id,
        )
        ids.append(school_id)
    return ids


async def _advisers(uow: UnitOfWork, school_ids: list[str], total: int) -> dict[str, list[str]]:
    """Each adviser serves three or four schools, as Personal Advisers do."""
    served: dict[str, list[str]] = {}
    for n in range(total):
        adviser_id = demo_id("adviser", n)
        count = 3 + n % 2
        served[adviser_id] = [school_ids[(n + k) % len(school_ids)] for k in range(count)]
        await uow.emit(
            AdviserUpserted(
                adviser_id=adviser_id,
                school_ids=served[adviser_id],
                contacts=[
                    ContactRoute(
                        role=ContactRole.ADVISER,
                        email=f"adviser{n}@demo.signpost.example",
                        email_consent=True,
                        preferred=[Channel.EMAIL],
                    )
                ],
            ),
            key=adviser_id,
        )
    return served


async def _students(
    uow: UnitOfWork, school_ids: list[str], total: int, rng: random.Random
) -> list[str]:
    ids = []
    rows = []
    for n in range(total):
        student_id = demo_id("student", n)
        school_id = school_ids[n % len(school_ids)]
        year = 7 + (n // len(school_ids)) % 7
        rows.append({"id": student_id, "school_id": school_id, "year_group": year})
        phone = f"+447700{900000 + n:06d}"[:13]
        await uow.emit(
            StudentUpserted(
                student_id=student_id,
                school_id=school_id,
                year_group=year,
                disadvantaged=rng.random() < 0.2,
                sen=rng.random() < 0.12,
                contacts=[
                    ContactRoute(
                        role=ContactRole.STUDENT,
                        phone=phone,
                        sms_consent=rng.random() < 0.9,
                        preferred=[Channel.SMS],
                    )
                ],
            ),
            key=student_id,
        )
        ids.append(student_id)
    await uow.session.execute(students.insert(), rows)
    return ids


async def _accounts(
    uow: UnitOfWork,
    hasher: PasswordHasher,
    school_ids: list[str],
    adviser_schools: dict[str, list[str]],
    student_ids: list[str],
) -> None:
    password_hash = hasher.hash(DEMO_PASSWORD)
    now = datetime.now(UTC)
    adviser_id = next(iter(adviser_schools))
    people = {
        Role.ADMIN: (demo_id("admin", 0), []),
        Role.COORDINATOR: (demo_id("coordinator", 0), [school_ids[0]]),
        Role.ADVISER: (adviser_id, adviser_schools[adviser_id]),
        Role.STUDENT: (student_ids[4 * len(school_ids)], [school_ids[0]]),  # Year 11
        Role.EBP: (demo_id("ebp", 0), school_ids),
    }
    for login in DEMO_LOGINS:
        person_id, schools_for = people[login.role]
        await uow.session.execute(
            accounts.insert().values(
                id=person_id,
                email=login.email,
                password_hash=password_hash,
                role=login.role.value,
                school_ids=schools_for,
                ebp_id=demo_id("ebp", 0) if login.role is Role.EBP else None,
                person_id=person_id,
                created_at=now,
            )
        )
