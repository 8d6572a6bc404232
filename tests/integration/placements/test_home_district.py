"""A student's home postcode district travels from the directory to matching; the school is the
fallback. Only the district (ME14), never a full postcode or an address."""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa

from services.booking.application.directory import ImportDirectory, import_directory
from services.booking.application.directory_records import KINDS
from services.booking.bootstrap import MIGRATIONS, task_unit_of_work, utc_now
from services.placements.adapters.directory_copies import DirectoryUnitOfWork
from services.placements.application.directory import student_upserted
from shared.csvimport import CsvImportError, parse_csv
from shared.db import Database
from shared.events import Envelope, Event
from shared.events.directory import StudentUpserted
from shared.messaging.tables import outbox
from shared.migrations import upgrade
from tests.integration.placements.conftest import HEALTH, IT, SCHOOL_A, Service
from tests.integration.placements.test_matching_flow import _completed_run

SCHOOLS = "id,name,day_starts,day_ends,postcode_district\nsch-1,Ashcombe Academy,08:30,15:30,ME14\n"
HEADER = "school_id,reference,year_group,home_district\n"


async def _import(db: Database, kind: str, text: str) -> None:
    spec = KINDS[kind]
    rows = parse_csv(text, spec.row, unique=spec.unique)
    async with task_unit_of_work(db) as uow:
        await import_directory(ImportDirectory(kind, rows), uow, utc_now())


async def test_the_directory_sends_the_home_district_and_refuses_a_full_postcode(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        await upgrade(db, MIGRATIONS)
        await _import(db, "schools", SCHOOLS)
        with pytest.raises(CsvImportError) as refused:
            await _import(db, "students", HEADER + "sch-1,A001,10,ME14 5AB\n")
        assert [(e.line, e.field) for e in refused.value.errors] == [(2, "home_district")]
        await _import(db, "students", HEADER + "sch-1,A001,10,me14\nsch-1,A002,10,\n")
        async with db.read_session() as s:
            bodies = (await s.execute(sa.select(outbox.c.body))).scalars().all()
        sent = [json.loads(b)["data"] for b in bodies]
        districts = [d.get("home_district") for d in sent if "student_id" in d]
        assert sorted(districts, key=str) == ["ME14", None]
    finally:
        await db.dispose()


async def test_a_student_is_judged_by_travel_from_their_home_district(service: Service) -> None:
    for student_id, district in (("student-h1", "CT1"), ("student-h2", None)):
        event = StudentUpserted(
            student_id=student_id,
            school_id=SCHOOL_A,
            year_group=10,
            date_of_birth=date(2011, 12, 1),
            home_district=district,
        )
        async with service.db.session() as s:
            await student_upserted(
                Event(Envelope.wrap(event, key=student_id, producer="t"), event),
                DirectoryUnitOfWork(service.db, producer="placements").within(s),
            )
    opened = await service.open_round(schools=[{"school_id": SCHOOL_A, "weeks": ["2027-W25"]}])
    base = f"/api/v1/rounds/{opened['id']}"
    for student_id, choice in (("student-h1", HEALTH), ("student-h2", IT)):
        stated = await service.client.put(
            f"{base}/students/me/preferences",
            json={"travel_limit_km": 15, "choices": [{"placement_id": choice}]},
            headers=service.student(student_id),
        )
        assert stated.status == 200, await stated.text()
    run = await _completed_run(service, opened["id"], seed=1)
    results = await (
        await service.client.get(f"{base}/runs/{run['id']}/results", headers=service.ebp())
    ).json()
    assert [a["student_id"] for a in results["assignments"]] == ["student-h2"]
    assert [(u["student_id"], u["reason"]) for u in results["unplaced"]] == [
        ("student-h1", "out_of_travel_range")
    ]
