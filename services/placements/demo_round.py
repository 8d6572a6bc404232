"""A demo allocation round: the directory as booking announced it, a round for Year 11 with
everyone's preferences, and one completed matching run for EBP staff to look at and publish
(development only; deterministic)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from services.placements.adapters.directory_copies import DirectoryUnitOfWork
from services.placements.adapters.orm import allocation_rounds, students
from services.placements.adapters.uow import PlacementsReads, PlacementsUnitOfWork
from services.placements.application import directory
from services.placements.application import preferences as preference_cases
from services.placements.application.ports import Clock, StatedPreferences
from services.placements.application.rounds import OpenRound, open_round
from services.placements.application.runs import RequestRun, execute_run, request_run
from services.placements.demo import DEMO_EBP, WEEKS
from services.placements.domain.model import MAX_PREFERENCES, Preference
from shared.db import Database
from shared.events import Event
from shared.events.directory import StudentUpserted
from shared.events.envelope import decode

PRODUCER = "placements"
DEMO_YEAR_GROUP = 11
DEMO_ROUND = "Summer 2027 work experience"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _unit_of_work(db: Database) -> PlacementsUnitOfWork:
    return PlacementsUnitOfWork(db, producer=PRODUCER)


@asynccontextmanager
async def _reads(db: Database) -> AsyncIterator[PlacementsReads]:
    async with db.read_session() as session:
        yield PlacementsReads(session)


async def load_directory(
    db: Database, bodies: Iterable[str], *, year_group: int = DEMO_YEAR_GROUP
) -> int:
    """Apply the directory events (as booking's outbox holds them) that the demo round needs,
    schools and one year group's students, to placements' copies as its consumer would; the
    consumer later sees every event and, by revision, passes over those applied here."""
    applied = 0
    async with db.session() as s:
        uow = DirectoryUnitOfWork(db, producer=PRODUCER).within(s)
        for body in bodies:
            envelope, payload = decode(body.encode())
            handler = directory.HANDLERS.get(envelope.type)
            if handler is None or payload is None:
                continue
            if isinstance(payload, StudentUpserted) and payload.year_group != year_group:
                continue
            await handler(Event(envelope, payload), uow)
            applied += 1
    return applied


async def state_preferences(
    db: Database,
    round_id: str,
    *,
    seed: int = 2027,
    skip: Iterable[str] = (),
    now: datetime | None = None,
) -> int:
    """Give every student of the round a few ranked choices of what is on offer to their
    school (so every choice is one a student's page would accept), in one transaction."""
    rng = random.Random(seed)
    now = now or _utc_now()
    skipped = set(skip)
    async with db.read_session() as s:
        reads = PlacementsReads(s)
        round_ = await reads.rounds.get(round_id)
        assert round_ is not None
        rows = (
            await s.execute(
                sa.select(students.c.id, students.c.school_id)
                .where(
                    students.c.school_id.in_(sorted(round_.school_weeks)),
                    students.c.year_group == round_.year_group,
                )
                .order_by(students.c.id)
            )
        ).all()
        offered: dict[str, list[Preference]] = {}
        for school_id in sorted({r.school_id for r in rows}):
            sectors, placements = await preference_cases.round_options(
                reads, round_, school_id, now.date()
            )
            offered[school_id] = [Preference(sector=d.key) for d in sectors] + [
                Preference(placement_id=o.placement_id) for o in placements
            ]
    stated = 0
    async with _unit_of_work(db) as uow:
        for row in rows:
            choices = offered.get(row.school_id) or []
            if row.id in skipped or not choices:
                continue
            picked = rng.sample(choices, k=min(len(choices), rng.randint(2, MAX_PREFERENCES)))
            travel_limit_km = float(rng.choice((15, 25, 40)))
            clearing = rng.random() < 0.6
            await uow.preferences.save(
                round_id,
                StatedPreferences(
                    row.id, row.school_id, picked, travel_limit_km, [], now, clearing
                ),
            )
            stated += 1
        await uow.commit()
    return stated


async def seed_round(db: Database, *, clock: Clock = _utc_now) -> bool:
    """Open the demo round, state everyone's preferences and run one matching, once."""
    now = clock()
    async with db.read_session() as s:
        if await s.scalar(sa.select(sa.func.count()).select_from(allocation_rounds)):
            return False
        school_ids = sorted(
            (
                await s.execute(
                    sa.select(students.c.school_id)
                    .where(students.c.year_group == DEMO_YEAR_GROUP)
                    .distinct()
                )
            ).scalars()
        )
    if not school_ids:
        return False
    async with _unit_of_work(db) as uow:
        record = await open_round(
            OpenRound(
                ebp_id=DEMO_EBP,
                name=DEMO_ROUND,
                year_group=DEMO_YEAR_GROUP,
                deadline=now + timedelta(days=42),
                school_weeks={school_id: WEEKS[:2] for school_id in school_ids},
                opened_by="demo",
                clearing_default=False,
            ),
            uow,
            now,
        )
    await state_preferences(db, record.id, now=now)
    async with _unit_of_work(db) as uow:
        locked = await uow.rounds.get(record.id, for_update=True)
        assert locked is not None
        run = await request_run(RequestRun(locked, 0, "demo"), uow, clock())
    await execute_run(lambda: _reads(db), lambda: _unit_of_work(db), run.id, clock)
    return True
