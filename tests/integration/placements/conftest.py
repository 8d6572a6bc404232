"""A small county for placements tests: two schools, a handful of students, four placements.

Schools and students go straight into placements' read model here (the broker test proves the
directory consumer fills it); employers go in through the real CSV import.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestClient

from services.placements.adapters.orm import schools, students
from services.placements.adapters.uow import PlacementsUnitOfWork
from services.placements.application.employers import (
    ImportEmployers,
    import_employers,
    placement_id_for,
    read_employers_file,
)
from services.placements.bootstrap import create_app
from services.placements.settings import PlacementsSettings
from shared.auth.principal import Role
from shared.db import Database, upsert
from shared.devdb import create_database, drop_database
from shared.events import decode
from shared.messaging.tables import outbox
from tests.support import app_client, bearer, settings_for, token_for

EBP = "ebp-kent"
SCHOOL_A, SCHOOL_B, SCHOOL_C = "school-a", "school-b", "school-c"
WEEK_1, WEEK_2 = "2027-W25", "2027-W26"
HEALTH, IT, VET, EXPIRED = (placement_id_for(r) for r in ("P-HEALTH", "P-IT", "P-VET", "P-OLD"))

EMPLOYERS_CSV = """\
employer_ref,employer_name,contact_email,postcode,latitude,longitude,health_safety_expires,\
insurance_expires,placement_ref,title,sector,weeks,capacity_per_week,minimum_age,accessibility
E-1,Maidstone Hospital,wex@hospital.example,ME16 9QQ,,,2028-01-31,2028-01-31,P-HEALTH,Ward \
support,health,2027-W25 2027-W26,1,14,step_free
E-2,Medway Software,jobs@software.example,ME14 5AB,,,2028-01-31,2028-01-31,P-IT,Junior \
developer,it,2027-W25 2027-W26,1,14,
E-3,Town Vets,hello@vets.example,,51.28,0.52,2028-01-31,2028-01-31,P-VET,Vet nurse,animal_care,\
2027-W25,1,14,
E-4,Old Clinic,old@clinic.example,ME15 6AA,,,2026-10-01,2028-01-31,P-OLD,Receptionist,health,\
2027-W25 2027-W26,3,14,
"""

STUDENTS = {
    "student-a1": SCHOOL_A,
    "student-a2": SCHOOL_A,
    "student-a3": SCHOOL_A,
    "student-b1": SCHOOL_B,
    "student-b2": SCHOOL_B,
    "student-b3": SCHOOL_B,
}
YEAR_11 = "student-a9"


@dataclass
class Service:
    client: TestClient[web.Request, web.Application]
    db: Database
    data_dir: Path

    def headers(
        self,
        role: Role,
        user_id: str = "user-1",
        *,
        schools: tuple[str, ...] = (),
        ebp_id: str | None = None,
    ) -> dict[str, str]:
        token = token_for(
            self.data_dir, user_id=user_id, role=role, school_ids=schools, ebp_id=ebp_id
        )
        return bearer(token)

    def ebp(self, ebp_id: str = EBP) -> dict[str, str]:
        return self.headers(
            Role.EBP, "ebp-staff", schools=(SCHOOL_A, SCHOOL_B, SCHOOL_C), ebp_id=ebp_id
        )

    def student(self, student_id: str) -> dict[str, str]:
        school = STUDENTS.get(student_id, SCHOOL_A)
        return self.headers(Role.STUDENT, student_id, schools=(school,))

    def coordinator(self, school: str) -> dict[str, str]:
        return self.headers(Role.COORDINATOR, f"coordinator-{school}", schools=(school,))

    async def outbox_events(self, event_type: str | None = None) -> list[Any]:
        query = sa.select(outbox.c.body).order_by(outbox.c.seq)
        if event_type is not None:
            query = query.where(outbox.c.event_type == event_type)
        async with self.db.read_session() as s:
            bodies = (await s.execute(query)).scalars().all()
        return [decode(b.encode())[0] for b in bodies]

    async def open_round(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "name": "Year 10 work experience 2027",
            "year_group": 10,
            "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
            "schools": [
                {"school_id": SCHOOL_A, "weeks": [WEEK_1]},
                {"school_id": SCHOOL_B, "weeks": [WEEK_1, WEEK_2]},
            ],
            **overrides,
        }
        response = await self.client.post("/api/v1/rounds", json=body, headers=self.ebp())
        assert response.status == 201, await response.text()
        return dict(await response.json())


async def seed_county(db: Database) -> None:
    async with db.session() as s:
        for school_id, lat, lon in ((SCHOOL_A, 51.285, 0.535), (SCHOOL_B, 51.275, 0.495)):
            await upsert(
                s,
                schools,
                {"id": school_id, "name": school_id, "latitude": lat, "longitude": lon},
            )
        await upsert(
            s,
            schools,
            {"id": SCHOOL_C, "name": SCHOOL_C, "postcode_district": "CT1"},
        )
        for student_id, school_id in [*STUDENTS.items(), (YEAR_11, SCHOOL_A)]:
            await upsert(
                s,
                students,
                {
                    "id": student_id,
                    "school_id": school_id,
                    "year_group": 11 if student_id == YEAR_11 else 10,
                    "date_of_birth": date(2011, 12, 1),
                    "disadvantaged": student_id == "student-b2",
                    "sen": False,
                },
            )
    async with PlacementsUnitOfWork(db, producer="placements") as uow:
        cmd = ImportEmployers(read_employers_file(EMPLOYERS_CSV), ebp_id=EBP)
        await import_employers(cmd, uow)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def service(
    request: pytest.FixtureRequest, broker: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Service]:
    """One running service per database kind for a whole test module.

    Starting and stopping the service (its consumer joins a group on the broker) takes seconds,
    so tests in a module share it: each test opens its own round and looks only at that round.
    """
    data_dir = tmp_path_factory.mktemp("placements")
    server = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{data_dir / 'placements.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = await create_database(server, "signpost_test")
    settings = settings_for(PlacementsSettings, database_url=url, broker=broker, data_dir=data_dir)
    try:
        async with app_client(create_app, settings) as client:
            db = Database(url)
            try:
                await seed_county(db)
                yield Service(client, db, data_dir)
            finally:
                await db.dispose()
    finally:
        if server is not None:
            await drop_database(server, url)
