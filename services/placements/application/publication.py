"""Publishing a run's allocations, employers' confirmations, and withdrawals afterwards.

Publishing turns a completed run into allocations and tells everyone: one event per student
(for the student and their school) and one per employer (the list they are to host), written
to the outbox in the same transaction. After publication, people have made plans around their
allocation, so a withdrawal re-matches only the displaced students and the freed places and
moves nobody else.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.orm import (
    allocation_rounds,
    allocations,
    matching_runs,
    placements,
    run_assignments,
    withdrawals,
)
from services.placements.adapters.repository import (
    RoundRecord,
    catalogue_query,
    load_problem,
    withdrawn_in,
)
from services.placements.application.errors import Conflict, NotFound
from services.placements.application.revisions import EMPLOYER, STUDENT, next_revision
from services.placements.application.rounds import already_published, require_unpublished
from services.placements.application.runs import get_run, require_completed
from services.placements.domain.model import Assignment, MatchingProblem, MatchResult
from services.placements.domain.rematch import rematch_after_withdrawal
from services.placements.domain.weeks import iso_week, monday_of
from shared.events.placements import (
    AllocationConfirmed,
    AllocationPublished,
    AllocationWithdrawn,
    EmployerAllocationsPublished,
    EmployerPlaces,
    WithdrawnBy,
)
from shared.uow import UnitOfWork

PUBLISHED, CONFIRMED, WITHDRAWN = "published", "confirmed", "withdrawn"
LIVE = (PUBLISHED, CONFIRMED)


@dataclass(frozen=True)
class Published:
    allocations: int
    employers: int


async def _allocation_event(
    session: AsyncSession,
    cls: type[Any],
    round_id: str,
    row: Mapping[Any, Any],
    sector: str,
    **extra: Any,
) -> Any:
    """The event about a student's allocation, with the next revision for them in the round."""
    return cls(
        revision=await next_revision(session, round_id, STUDENT, row["student_id"]),
        round_id=round_id,
        student_id=row["student_id"],
        school_id=row["school_id"],
        placement_id=row["placement_id"],
        employer_id=row["employer_id"],
        sector=sector,
        week_starts=monday_of(row["week"]),
        **extra,
    )


async def publish_run(uow: UnitOfWork, round_: RoundRecord, run_id: str) -> Published:
    s = uow.session
    require_completed(await get_run(s, round_, run_id))
    require_unpublished(round_)
    now = datetime.now(UTC)
    claimed: CursorResult[Any] = await s.execute(  # type: ignore[assignment]
        allocation_rounds.update()
        .where(allocation_rounds.c.id == round_.id, allocation_rounds.c.published_at.is_(None))
        .values(published_run_id=run_id, published_at=now)
    )
    if not claimed.rowcount:
        # `round_` was read before another request published it.
        raise already_published()
    rows = (
        await s.execute(
            sa.select(run_assignments, placements.c.employer_id, placements.c.sector)
            .join(placements, placements.c.id == run_assignments.c.placement_id)
            .where(run_assignments.c.run_id == run_id)
            .order_by(run_assignments.c.student_id)
        )
    ).all()
    records = [
        {
            "id": str(uuid.uuid4()),
            "round_id": round_.id,
            "student_id": r.student_id,
            "school_id": r.school_id,
            "placement_id": r.placement_id,
            "employer_id": r.employer_id,
            "week": r.week,
            "rank": r.rank,
            "pinned": r.pinned,
            "cleared": r.cleared,
            "status": PUBLISHED,
            "published_at": now,
        }
        for r in rows
    ]
    if records:
        await s.execute(allocations.insert(), records)
    sectors = {r.placement_id: r.sector for r in rows}
    for record in records:
        event = await _allocation_event(
            s,
            AllocationPublished,
            round_.id,
            record,
            sectors[record["placement_id"]],
            cleared=record["cleared"],
        )
        await uow.emit(event, key=record["student_id"])
    employers = sorted({r["employer_id"] for r in records})
    await _announce_employer_lists(uow, round_.id, employers)
    await uow.commit()
    return Published(len(records), len(employers))


async def _announce_employer_lists(
    uow: UnitOfWork, round_id: str, employer_ids: Iterable[str]
) -> None:
    """Each employer's whole list of live places as it now stands (empty once all withdrew)."""
    employer_ids = list(employer_ids)
    if not employer_ids:
        return
    rows = (
        await uow.session.execute(
            sa.select(
                allocations.c.employer_id,
                allocations.c.placement_id,
                allocations.c.week,
                sa.func.count(),
            )
            .where(
                allocations.c.round_id == round_id,
                allocations.c.employer_id.in_(employer_ids),
                allocations.c.status.in_(LIVE),
            )
            .group_by(allocations.c.employer_id, allocations.c.placement_id, allocations.c.week)
            .order_by(allocations.c.employer_id, allocations.c.placement_id, allocations.c.week)
        )
    ).all()
    places: dict[str, list[EmployerPlaces]] = defaultdict(list)
    for employer_id, placement_id, week, count in rows:
        places[employer_id].append(
            EmployerPlaces(placement_id=placement_id, week_starts=monday_of(week), students=count)
        )
    for employer_id in employer_ids:
        revision = await next_revision(uow.session, round_id, EMPLOYER, employer_id)
        await uow.emit(
            EmployerAllocationsPublished(
                round_id=round_id,
                employer_id=employer_id,
                places=places[employer_id],
                revision=revision,
            ),
            key=employer_id,
        )


async def confirm_employer(uow: UnitOfWork, round_: RoundRecord, employer_id: str) -> int:
    """The employer confirmed the students allocated to them; returns how many."""
    s = uow.session
    rows = (
        await s.execute(
            sa.select(allocations, placements.c.sector)
            .join(placements, placements.c.id == allocations.c.placement_id)
            .where(
                allocations.c.round_id == round_.id,
                allocations.c.employer_id == employer_id,
                allocations.c.status.in_(LIVE),
            )
        )
    ).all()
    if not rows:
        raise NotFound("This employer has no allocations in this round.")
    waiting = [r for r in rows if r.status == PUBLISHED]
    if not waiting:
        raise Conflict("The employer has already confirmed every allocation.", kind="confirmed")
    await s.execute(
        allocations.update()
        .where(allocations.c.id.in_([r.id for r in waiting]))
        .values(status=CONFIRMED, confirmed_at=datetime.now(UTC))
    )
    for r in waiting:
        await uow.emit(
            await _allocation_event(s, AllocationConfirmed, round_.id, r._mapping, r.sector),
            key=r.student_id,
        )
    await uow.commit()
    return len(waiting)


@dataclass(frozen=True)
class Rematched:
    withdrawn: list[dict[str, Any]]
    newly_allocated: list[dict[str, Any]]


async def withdraw(
    uow: UnitOfWork,
    round_: RoundRecord,
    *,
    student_id: str | None = None,
    placement_id: str | None = None,
    recorded_by: str,
    today: date | None = None,
) -> Rematched:
    """Record a student's or a placement's withdrawal and re-match around it."""
    s = uow.session
    if round_.published_at is None or round_.published_run_id is None:
        raise Conflict("Nothing is published in this round yet.", kind="round-not-published")
    today = today or datetime.now(UTC).date()
    live_rows = (
        await s.execute(
            sa.select(allocations).where(
                allocations.c.round_id == round_.id, allocations.c.status.in_(LIVE)
            )
        )
    ).all()
    if student_id is not None and not any(r.student_id == student_id for r in live_rows):
        raise NotFound("This student has no live allocation in this round.")
    gone_students, gone_placements = await withdrawn_in(s, round_.id)
    if placement_id is not None:
        known = (
            await s.execute(catalogue_query(round_.ebp_id).where(placements.c.id == placement_id))
        ).first()
        if known is None:
            raise NotFound("No such placement in this round.")
        if placement_id in gone_placements:
            raise Conflict("This placement has already withdrawn.", kind="already-withdrawn")
    now = datetime.now(UTC)
    await s.execute(
        withdrawals.insert().values(
            id=str(uuid.uuid4()),
            round_id=round_.id,
            student_id=student_id,
            placement_id=placement_id,
            recorded_by=recorded_by,
            recorded_at=now,
        )
    )
    if student_id is not None:
        gone_students.add(student_id)
    if placement_id is not None:
        gone_placements.add(placement_id)
    problem = await load_problem(s, round_, today)
    run = (
        await s.execute(
            sa.select(matching_runs.c.seed, matching_runs.c.school_quotas).where(
                matching_runs.c.id == round_.published_run_id
            )
        )
    ).one()
    in_problem = {st.id for st in problem.students}
    previous = MatchResult(
        assignments=tuple(
            Assignment(r.student_id, r.placement_id, monday_of(r.week), r.rank, r.pinned, r.cleared)
            for r in live_rows
            if r.student_id in in_problem or r.student_id in gone_students
        ),
        unplaced=(),
        school_quotas=run.school_quotas or {},
        seed=run.seed,
    )
    result = await asyncio.to_thread(
        rematch_after_withdrawal, problem, previous, gone_students, gone_placements
    )
    outcome = await apply_new_allocations(
        uow, round_, live_rows, result, gone_students, gone_placements, problem, now
    )
    await uow.commit()
    return outcome


async def apply_new_allocations(
    uow: UnitOfWork,
    round_: RoundRecord,
    live_rows: Sequence[Any],
    result: MatchResult,
    gone_students: set[str],
    gone_placements: set[str],
    problem: MatchingProblem,
    now: datetime,
) -> Rematched:
    """End what withdrew and publish what is new in ``result``; refuse if anyone else moved."""
    s = uow.session
    by_placement = {p.id: p for p in problem.placements}
    after = result.assignments_by_student()
    ended = [
        r for r in live_rows if r.student_id in gone_students or r.placement_id in gone_placements
    ]
    ended_ids = {r.id for r in ended}
    for r in live_rows:
        a = after.get(r.student_id)
        if r.id not in ended_ids and (
            a is None or (a.placement_id, iso_week(a.week)) != (r.placement_id, r.week)
        ):
            raise RuntimeError("a re-match moved a student whose placement did not withdraw")
    if ended:
        await s.execute(
            allocations.update()
            .where(allocations.c.id.in_(sorted(ended_ids)))
            .values(status=WITHDRAWN, withdrawn_at=now)
        )
    sector_of: dict[str, str] = defaultdict(str)
    sector_of.update({pid: p.sector for pid, p in by_placement.items()})
    for r in ended:
        who = WithdrawnBy.STUDENT if r.student_id in gone_students else WithdrawnBy.EMPLOYER
        await uow.emit(
            await _allocation_event(
                s,
                AllocationWithdrawn,
                round_.id,
                r._mapping,
                sector_of[r.placement_id],
                withdrawn_by=who,
            ),
            key=r.student_id,
        )
    still = {r.student_id for r in live_rows if r.id not in ended_ids}
    school_of = {st.id: st.school_id for st in problem.students}
    new_records: list[dict[str, Any]] = []
    for a in result.assignments:
        if a.student_id in still:
            continue
        placement = by_placement[a.placement_id]
        new_records.append(
            {
                "id": str(uuid.uuid4()),
                "round_id": round_.id,
                "student_id": a.student_id,
                "school_id": school_of[a.student_id],
                "placement_id": a.placement_id,
                "employer_id": placement.employer_id,
                "week": iso_week(a.week),
                "rank": a.rank,
                "pinned": a.pinned,
                "cleared": a.cleared,
                "status": PUBLISHED,
                "published_at": now,
            }
        )
    if new_records:
        await s.execute(allocations.insert(), new_records)
    for record in new_records:
        await uow.emit(
            await _allocation_event(
                s,
                AllocationPublished,
                round_.id,
                record,
                sector_of[record["placement_id"]],
                rematch=not record["cleared"],
                cleared=record["cleared"],
            ),
            key=record["student_id"],
        )
    touched = {r.employer_id for r in ended} | {r["employer_id"] for r in new_records}
    await _announce_employer_lists(uow, round_.id, sorted(touched))
    return Rematched(
        withdrawn=[_public(r._mapping) for r in ended],
        newly_allocated=[_public(r) for r in new_records],
    )


def _public(row: Mapping[Any, Any]) -> dict[str, Any]:
    keys = ("student_id", "school_id", "placement_id", "employer_id", "week", "rank")
    return {k: row[k] for k in keys}


async def live_allocations(
    session: AsyncSession,
    round_: RoundRecord,
    school_ids: frozenset[str] | None,
    student_id: str | None = None,
) -> list[dict[str, Any]]:
    """Published allocations still standing, for every school or only some."""
    query = sa.select(allocations).where(
        allocations.c.round_id == round_.id, allocations.c.status.in_(LIVE)
    )
    if school_ids is not None:
        query = query.where(allocations.c.school_id.in_(sorted(school_ids)))
    if student_id is not None:
        query = query.where(allocations.c.student_id == student_id)
    rows = (await session.execute(query.order_by(allocations.c.student_id))).all()
    return [
        {**_public(r._mapping), "status": r.status, "pinned": r.pinned, "cleared": r.cleared}
        for r in rows
    ]
