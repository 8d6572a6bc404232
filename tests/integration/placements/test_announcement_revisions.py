"""Placements announces each employer, student allocation and employer list with a higher
revision than the last, through publication, confirmation, withdrawal and re-match."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from services.placements.adapters.orm import employers
from services.placements.adapters.uow import PlacementsUnitOfWork
from services.placements.application.employers import (
    ImportEmployers,
    employer_id_for,
    import_employers,
    read_employers_file,
)
from services.placements.bootstrap import MIGRATIONS
from shared.db import Database
from shared.events import decode
from shared.messaging.tables import outbox
from shared.migrations import upgrade
from tests.integration.placements.conftest import EBP, EMPLOYERS_CSV, HEALTH, Service
from tests.integration.placements.test_matching_flow import (
    _completed_run,
    _state_students_preferences,
)

HOSPITAL = employer_id_for("E-1")
# Room elsewhere, so that students displaced by a withdrawal are placed again.
MORE_PLACES = (
    "E-5,Kent Code Club,club@code.example,ME14 5AB,,,2028-01-31,2028-01-31,P-CODE,Coder,it,"
    "2027-W25 2027-W26,3,14,step_free\n"
)
ALLOCATION_TYPES = (
    "placements.allocation.published",
    "placements.allocation.confirmed",
    "placements.allocation.withdrawn",
)


async def announced(db: Database, event_type: str, key: str) -> list[int]:
    async with db.read_session() as s:
        bodies = (
            await s.execute(
                sa.select(outbox.c.body)
                .where(outbox.c.event_type == event_type, outbox.c.key == key)
                .order_by(outbox.c.seq)
            )
        ).scalars()
        return [decode(b.encode())[0].data["revision"] for b in bodies]


async def import_csv(db: Database, text: str) -> None:
    async with PlacementsUnitOfWork(db, producer="placements") as uow:
        await import_employers(ImportEmployers(read_employers_file(text), ebp_id=EBP), uow)


async def test_each_change_to_an_employer_raises_its_revision(database_url: str) -> None:
    db = Database(database_url)
    try:
        await upgrade(db, MIGRATIONS)
        await import_csv(db, EMPLOYERS_CSV)
        await import_csv(db, EMPLOYERS_CSV)  # unchanged: nothing written, nothing announced
        new_email = EMPLOYERS_CSV.replace("wex@hospital.example", "wex2@hospital.example")
        await import_csv(db, new_email)
        renamed = new_email.replace("Maidstone Hospital", "Maidstone General")
        await import_csv(db, renamed)  # written, but the contact point is not news
        await import_csv(db, renamed.replace("wex2@", "wex3@"))
        assert await announced(db, "placements.employer.upserted", HOSPITAL) == [1, 2, 4]
        async with db.read_session() as s:
            revision = await s.scalar(
                sa.select(employers.c.revision).where(employers.c.id == HOSPITAL)
            )
        assert revision == 4
    finally:
        await db.dispose()


async def test_a_student_s_allocation_events_rise_across_withdrawal_and_re_match(
    service: Service,
) -> None:
    client, ebp = service.client, service.ebp()
    round_id = (await service.open_round())["id"]
    base = f"/api/v1/rounds/{round_id}"
    await _state_students_preferences(service, round_id)
    run = await _completed_run(service, round_id, seed=7)
    assert (await client.post(f"{base}/runs/{run['id']}/publication", headers=ebp)).status == 200
    allocations = (await (await client.get(f"{base}/allocations", headers=ebp)).json())[
        "allocations"
    ]
    confirmed_employer = next(a["employer_id"] for a in allocations if a["placement_id"] == HEALTH)
    confirmed = await client.post(
        f"{base}/employers/{confirmed_employer}/confirmation", headers=ebp
    )
    assert confirmed.status == 200
    await import_csv(service.db, EMPLOYERS_CSV + MORE_PLACES)
    dropped = await client.post(f"{base}/withdrawals", json={"placement_id": HEALTH}, headers=ebp)
    assert dropped.status == 200, await dropped.text()
    assert (await dropped.json())["newly_allocated"], "someone displaced is placed again"

    per_student: dict[str, list[tuple[str, int]]] = defaultdict(list)
    per_employer: dict[str, list[int]] = defaultdict(list)
    for event in await service.outbox_events():
        if event.data.get("round_id") != round_id:
            continue
        if event.type in ALLOCATION_TYPES:
            per_student[event.key].append((event.type, event.data["revision"]))
        elif event.type == "placements.employer_allocations.published":
            per_employer[event.key].append(event.data["revision"])
    for key, events in per_student.items():
        assert [r for _, r in events] == list(range(1, len(events) + 1)), key
    for key, revisions in per_employer.items():
        assert revisions == list(range(1, len(revisions) + 1)), key
    published, confirmed, withdrawn = ALLOCATION_TYPES
    lives = [[t for t, _ in events] for events in per_student.values()]
    assert [published, confirmed, withdrawn, published] in lives
    assert max(len(revisions) for revisions in per_employer.values()) >= 2
