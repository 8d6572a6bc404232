"""The demo county for development: schools and their calendars, advisers, students,
Partnership Agreements that open slots over the coming weeks, and the demo logins.

Deterministic (a fixed seed and name-based ids), and loaded only into an empty database, so
every record starts at revision 1 (its column's default) and so does its event.
Terms are laid out around "today" (the real date, or one a test gives), so the demo always
has bookable slots; the demo student also waits on a waitlist, and a drop-in queue runs today
(see `demo_live.py`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from services.booking.adapters.orm import (
    accounts,
    advisers,
    agreements,
    rooms,
    school_periods,
    schools,
    students,
)
from services.booking.application.agreements import (
    AgreementTerms,
    AttendanceTerms,
    PromiseTerms,
    academic_year_bounds,
    academic_year_of,
    agreement_values,
)
from services.booking.demo_diary import book_diary
from services.booking.demo_live import (
    DEMO_QUEUE,
    a_contact_to_check,
    run_todays_dropin,
    wait_for_a_group_session,
)
from services.booking.demo_names import SCHOOL_NAMES, TOWNS, demo_id, demo_name
from services.booking.domain.model import LONDON, AdviserKind, PriorityFlag, SessionType
from shared.auth.passwords import PasswordHasher
from shared.auth.principal import Role
from shared.db import Database
from shared.events.directory import (
    AdviserUpserted,
    Channel,
    ContactRole,
    ContactRoute,
    SchoolUpserted,
    StaffUpserted,
    StudentUpserted,
)
from shared.uow import UnitOfWork

DEMO_PASSWORD = "signpost-demo"


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
        "Personal Adviser at Ashcombe Academy, Brookfield School and Castlemead High",
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


async def seed(
    db: Database,
    *,
    students_total: int = 2000,
    advisers_total: int = 20,
    now: datetime | None = None,
) -> bool:
    """Load the demo county if the database has no accounts yet. Returns True if it did.

    `now` is the moment the demo is loaded as (the real time unless a test gives one): the
    school years, the diary, the waitlist and today's drop-in are laid out around it.
    """
    now = now or datetime.now(UTC)
    today = now.astimezone(LONDON).date()
    async with db.read_session() as s:
        if await s.scalar(sa.select(sa.func.count()).select_from(accounts)):
            return False
    rng = random.Random(2026)
    hasher = PasswordHasher()
    async with UnitOfWork(db, producer="booking") as uow:
        school_ids = await _schools(uow, advisers_total, today)
        adviser_schools = await _advisers(uow, school_ids, advisers_total)
        student_ids = await _students(uow, school_ids, students_total, rng)
        await _accounts(uow, hasher, school_ids, adviser_schools, student_ids, now)
        await _agreements(uow, adviser_schools, today, now)
        await uow.commit()
    demo_adviser = next(iter(adviser_schools))
    demo_student = student_ids[4 * len(school_ids)]
    served = adviser_schools[demo_adviser]
    await book_diary(db, demo_adviser, served, student_ids, {demo_student}, now)
    await wait_for_a_group_session(db, school_ids[0], demo_student, now)
    younger = student_ids[: 4 * len(school_ids) : len(school_ids)]  # Ashcombe, Years 7 to 10
    await run_todays_dropin(db, school_ids[0], demo_adviser, younger[:DEMO_QUEUE], now)
    await a_contact_to_check(db, school_ids[0], younger[DEMO_QUEUE], now)
    return True


CONFIDENTIAL_ROOM = "Careers interview room"
DEMO_HORIZON_DAYS = 56  # eight weeks, so even in the summer holiday September is bookable


def _terms(year: str) -> list[tuple[str, date, date]]:
    """An English school year: three terms, half-terms and the usual holidays."""
    autumn = academic_year_bounds(year)[0].year
    return [
        ("term", date(autumn, 9, 3), date(autumn, 12, 18)),
        ("holiday", date(autumn, 10, 26), date(autumn, 10, 30)),
        ("term", date(autumn + 1, 1, 5), date(autumn + 1, 3, 26)),
        ("holiday", date(autumn + 1, 2, 15), date(autumn + 1, 2, 19)),
        ("term", date(autumn + 1, 4, 12), date(autumn + 1, 7, 21)),
        ("holiday", date(autumn + 1, 5, 31), date(autumn + 1, 6, 4)),
        ("exam", date(autumn + 1, 5, 11), date(autumn + 1, 5, 22)),
    ]


def _years(today: date) -> list[str]:
    this_year = academic_year_of(today)
    next_year = academic_year_of(academic_year_bounds(this_year)[1] + timedelta(days=1))
    return [this_year, next_year]


def _lead_advisers(school_ids: list[str], advisers_total: int) -> dict[str, str]:
    """Each school's lead PA: the first adviser whose round starts there."""
    leads: dict[str, str] = {}
    for n in range(advisers_total):
        leads.setdefault(school_ids[n % len(school_ids)], demo_id("adviser", n))
    return leads


async def _agreements(
    uow: UnitOfWork, adviser_schools: dict[str, list[str]], today: date, now: datetime
) -> None:
    """Each adviser gives each of their schools one weekday (a different one per school),
    and a Friday lunchtime drop-in at their first school."""
    lines: dict[str, list[AttendanceTerms]] = {}
    for adviser_id, served in adviser_schools.items():
        for weekday, school_id in enumerate(served):
            lines.setdefault(school_id, []).append(
                AttendanceTerms(adviser_id=adviser_id, weekdays=[weekday])
            )
        lines[served[0]].append(
            AttendanceTerms(
                adviser_id=adviser_id,
                weekdays=[4],
                start=time(12, 15),
                end=time(13, 15),
                session_types=[SessionType.DROPIN],
            )
        )
    for year in _years(today):
        first, _ = academic_year_bounds(year)
        for school_id, attendances in lines.items():
            terms = AgreementTerms(
                confidential_room=CONFIDENTIAL_ROOM,
                attendances=attendances,
                horizon_days=DEMO_HORIZON_DAYS,
                promises=[PromiseTerms(year_groups=[11], by=date(first.year + 1, 3, 31))],
            )
            await uow.session.execute(
                agreements.insert().values(
                    id=demo_id("agreement", f"{school_id}-{year}"),
                    **agreement_values(school_id, year, terms, now),
                )
            )


async def _schools(uow: UnitOfWork, advisers_total: int, today: date) -> list[str]:
    ids = [demo_id("school", n) for n in range(len(SCHOOL_NAMES))]
    leads = _lead_advisers(ids, advisers_total)
    for n, name in enumerate(SCHOOL_NAMES):
        school_id = ids[n]
        district, lat, lon = TOWNS[n % len(TOWNS)]
        starts, ends = time(8, 30), time(15, 30)
        coordinator = demo_id("coordinator", 0) if n == 0 else None
        await uow.session.execute(
            schools.insert().values(
                id=school_id,
                name=name,
                day_starts=starts,
                day_ends=ends,
                postcode_district=district,
                lead_adviser_id=leads.get(school_id),
                coordinator_id=coordinator,
            )
        )
        await uow.session.execute(
            rooms.insert(),
            [
                {
                    "id": demo_id("room", f"{n}-c"),
                    "school_id": school_id,
                    "name": CONFIDENTIAL_ROOM,
                    "confidential": True,
                },
                {
                    "id": demo_id("room", f"{n}-l"),
                    "school_id": school_id,
                    "name": "Library",
                    "confidential": False,
                },
            ],
        )
        await uow.session.execute(
            school_periods.insert(),
            [
                {
                    "id": demo_id("period", f"{n}-{year}-{k}"),
                    "school_id": school_id,
                    "kind": kind,
                    "first_day": first,
                    "last_day": last,
                }
                for year in _years(today)
                for k, (kind, first, last) in enumerate(_terms(year))
            ],
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
                lead_adviser_id=leads.get(school_id),
                coordinator_id=coordinator,
                revision=1,
            ),
            key=school_id,
        )
    return ids


async def _advisers(uow: UnitOfWork, school_ids: list[str], total: int) -> dict[str, list[str]]:
    """Each adviser serves three or four schools, as Personal Advisers do."""
    served: dict[str, list[str]] = {}
    for n in range(total):
        adviser_id = demo_id("adviser", n)
        count = 3 + n % 2
        served[adviser_id] = [school_ids[(n + k) % len(school_ids)] for k in range(count)]
        kinds = [AdviserKind.GUIDANCE.value]
        if n % 5 == 4:
            kinds.append(AdviserKind.INTENSIVE_SUPPORT.value)
        if n % 7 == 6:
            kinds.append(AdviserKind.SEN.value)
        await uow.session.execute(
            advisers.insert().values(
                id=adviser_id,
                display_name=f"Adviser {n + 1}",
                kinds=kinds,
                email=f"adviser{n}@demo.signpost.example",
            )
        )
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
                revision=1,
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
        disadvantaged, sen = rng.random() < 0.2, rng.random() < 0.12
        flags = [PriorityFlag.SEN.value] if sen else []
        if disadvantaged and year >= 10 and n % 3 == 0:
            flags.append(PriorityFlag.NEET_RISK.value)
        rows.append(
            {
                "id": student_id,
                "school_id": school_id,
                "year_group": year,
                "reference": f"S{n:05d}",
                "display_name": demo_name(n),
                "priority_flags": flags,
                "disadvantaged": disadvantaged,
            }
        )
        phone = f"+447700{900000 + n:06d}"[:13]
        await uow.emit(
            StudentUpserted(
                student_id=student_id,
                school_id=school_id,
                year_group=year,
                disadvantaged=disadvantaged,
                sen=sen,
                contacts=[
                    ContactRoute(
                        role=ContactRole.STUDENT,
                        phone=phone,
                        sms_consent=rng.random() < 0.9,
                        preferred=[Channel.SMS],
                    )
                ],
                revision=1,
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
    now: datetime,
) -> None:
    password_hash = hasher.hash(DEMO_PASSWORD)
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
    coordinator_id, coordinator_schools = people[Role.COORDINATOR]
    await uow.emit(
        StaffUpserted(
            staff_id=coordinator_id,
            role=Role.COORDINATOR.value,
            school_ids=coordinator_schools,
            contacts=[
                ContactRoute(
                    role=ContactRole.STAFF,
                    email="coordinator@demo.signpost.example",
                    email_consent=True,
                    preferred=[Channel.EMAIL],
                )
            ],
            revision=1,
        ),
        key=coordinator_id,
    )
