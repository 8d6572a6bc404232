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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.placements.application.errors import Conflict, NotFound
from services.placements.application.ports import (
    Allocation,
    PlacementsRepositories,
    PlacementsUnitOfWork,
    RoundRecord,
)
from services.placements.application.revisions import EMPLOYER, STUDENT
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

PUBLISHED, CONFIRMED, WITHDRAWN = "published", "confirmed", "withdrawn"
LIVE = (PUBLISHED, CONFIRMED)


@dataclass(frozen=True)
class Published:
    allocations: int
    employers: int


@dataclass(frozen=True)
class PublishRun:
    round_: RoundRecord
    """The round as the transaction read (and locked) it."""
    run_id: str


@dataclass(frozen=True)
class ConfirmEmployer:
    round_: RoundRecord
    employer_id: str


@dataclass(frozen=True)
class Withdraw:
    """A student's or a placement's withdrawal from a published round."""

    round_: RoundRecord
    recorded_by: str
    student_id: str | None = None
    placement_id: str | None = None


async def _allocation_event(
    uow: PlacementsUnitOfWork,
    cls: type[Any],
    allocation: Allocation,
    sector: str,
    **extra: Any,
) -> Any:
    """The event about a student's allocation, with the next revision for them in the round."""
    round_id = allocation.round_id
    return cls(
        revision=await uow.revisions.next(round_id, STUDENT, allocation.student_id),
        round_id=round_id,
        student_id=allocation.student_id,
        school_id=allocation.school_id,
        placement_id=allocation.placement_id,
        employer_id=allocation.employer_id,
        sector=sector,
        week_starts=monday_of(allocation.week),
        **extra,
    )


async def publish_run(cmd: PublishRun, uow: PlacementsUnitOfWork, now: datetime) -> Published:
    round_, run_id = cmd.round_, cmd.run_id
    require_completed(await get_run(uow, round_, run_id))
    require_unpublished(round_)
    if not await uow.rounds.claim_publication(round_.id, run_id, now):
        # `round_` was read before another request published it.
        raise already_published()
    seats = await uow.runs.assignments(run_id)
    records = [
        Allocation(
            id=str(uuid.uuid4()),
            round_id=round_.id,
            student_id=r.student_id,
            school_id=r.school_id,
            placement_id=r.placement_id,
            employer_id=r.employer_id,
            week=r.week,
            rank=r.rank,
            pinned=r.pinned,
            cleared=r.cleared,
            status=PUBLISHED,
        )
        for r in seats
    ]
    await uow.allocations.add(records, now)
    sectors = {r.placement_id: r.sector for r in seats}
    for record in records:
        event = await _allocation_event(
            uow, AllocationPublished, record, sectors[record.placement_id], cleared=record.cleared
        )
        await uow.emit(event, key=record.student_id)
    employers = sorted({r.employer_id for r in records})
    await _announce_employer_lists(uow, round_.id, employers)
    await uow.commit()
    return Published(len(records), len(employers))


async def _announce_employer_lists(
    uow: PlacementsUnitOfWork, round_id: str, employer_ids: Iterable[str]
) -> None:
    """Each employer's whole list of live places as it now stands (empty once all withdrew)."""
    employer_ids = list(employer_ids)
    if not employer_ids:
        return
    places: dict[str, list[EmployerPlaces]] = defaultdict(list)
    for count in await uow.allocations.places_of(round_id, employer_ids):
        places[count.employer_id].append(
            EmployerPlaces(
                placement_id=count.placement_id,
                week_starts=monday_of(count.week),
                students=count.students,
            )
        )
    for employer_id in employer_ids:
        revision = await uow.revisions.next(round_id, EMPLOYER, employer_id)
        await uow.emit(
            EmployerAllocationsPublished(
                round_id=round_id,
                employer_id=employer_id,
                places=places[employer_id],
                revision=revision,
            ),
            key=employer_id,
        )


async def confirm_employer(cmd: ConfirmEmployer, uow: PlacementsUnitOfWork, now: datetime) -> int:
    """The employer confirmed the students allocated to them; returns how many."""
    rows = await uow.allocations.live(cmd.round_.id, employer_id=cmd.employer_id)
    if not rows:
        raise NotFound("This employer has no allocations in this round.")
    waiting = [r for r in rows if r.status == PUBLISHED]
    if not waiting:
        raise Conflict("The employer has already confirmed every allocation.", kind="confirmed")
    sectors = await uow.catalogue.sectors({r.placement_id for r in waiting})
    await uow.allocations.confirm([r.id for r in waiting], now)
    for r in waiting:
        await uow.emit(
            await _allocation_event(uow, AllocationConfirmed, r, sectors[r.placement_id]),
            key=r.student_id,
        )
    await uow.commit()
    return len(waiting)


@dataclass(frozen=True)
class Rematched:
    withdrawn: list[dict[str, Any]]
    newly_allocated: list[dict[str, Any]]


@dataclass(frozen=True)
class WithdrawalBasis:
    """What a withdrawal works from: the published run, the round's live allocations and what
    has withdrawn."""

    run_id: str
    live: list[Allocation]
    gone_students: set[str]
    gone_placements: set[str]


async def withdrawal_basis(
    repositories: PlacementsRepositories,
    round_: RoundRecord,
    student_id: str | None,
    placement_id: str | None,
) -> WithdrawalBasis:
    """The basis of a student's or a placement's withdrawal, or the refusal it would meet (a
    `Conflict` or `NotFound`); the pages ask before offering to record one."""
    if round_.published_at is None or round_.published_run_id is None:
        raise Conflict("Nothing is published in this round yet.", kind="round-not-published")
    live_rows = await repositories.allocations.live(round_.id)
    if student_id is not None and not any(r.student_id == student_id for r in live_rows):
        raise NotFound("This student has no live allocation in this round.")
    gone_students, gone_placements = await repositories.withdrawals.in_round(round_.id)
    if placement_id is not None:
        if await repositories.catalogue.placement(round_.ebp_id, placement_id) is None:
            raise NotFound("No such placement in this round.")
        if placement_id in gone_placements:
            raise Conflict("This placement has already withdrawn.", kind="already-withdrawn")
    return WithdrawalBasis(round_.published_run_id, live_rows, gone_students, gone_placements)


async def withdraw(cmd: Withdraw, uow: PlacementsUnitOfWork, now: datetime) -> Rematched:
    """Record a student's or a placement's withdrawal and re-match around it.

    `now` also dates the vetting the re-match checks.
    """
    round_, student_id, placement_id = cmd.round_, cmd.student_id, cmd.placement_id
    found = await withdrawal_basis(uow, round_, student_id, placement_id)
    live_rows, gone_students, gone_placements = (
        found.live,
        found.gone_students,
        found.gone_placements,
    )
    await uow.withdrawals.add(
        round_.id,
        student_id=student_id,
        placement_id=placement_id,
        recorded_by=cmd.recorded_by,
        now=now,
    )
    if student_id is not None:
        gone_students.add(student_id)
    if placement_id is not None:
        gone_placements.add(placement_id)
    problem = await uow.problems.load(round_, now.date())
    basis = await uow.runs.basis(found.run_id)
    in_problem = {st.id for st in problem.students}
    previous = MatchResult(
        assignments=tuple(
            Assignment(r.student_id, r.placement_id, monday_of(r.week), r.rank, r.pinned, r.cleared)
            for r in live_rows
            if r.student_id in in_problem or r.student_id in gone_students
        ),
        unplaced=(),
        school_quotas=basis.school_quotas,
        seed=basis.seed,
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
    uow: PlacementsUnitOfWork,
    round_: RoundRecord,
    live_rows: Sequence[Allocation],
    result: MatchResult,
    gone_students: set[str],
    gone_placements: set[str],
    problem: MatchingProblem,
    now: datetime,
) -> Rematched:
    """End what withdrew and publish what is new in ``result``; refuse if anyone else moved."""
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
        await uow.allocations.withdraw(ended_ids, now)
    sector_of: dict[str, str] = defaultdict(str)
    sector_of.update({pid: p.sector for pid, p in by_placement.items()})
    for r in ended:
        who = WithdrawnBy.STUDENT if r.student_id in gone_students else WithdrawnBy.EMPLOYER
        await uow.emit(
            await _allocation_event(
                uow, AllocationWithdrawn, r, sector_of[r.placement_id], withdrawn_by=who
            ),
            key=r.student_id,
        )
    still = {r.student_id for r in live_rows if r.id not in ended_ids}
    school_of = {st.id: st.school_id for st in problem.students}
    new_records = [
        Allocation(
            id=str(uuid.uuid4()),
            round_id=round_.id,
            student_id=a.student_id,
            school_id=school_of[a.student_id],
            placement_id=a.placement_id,
            employer_id=by_placement[a.placement_id].employer_id,
            week=iso_week(a.week),
            rank=a.rank,
            pinned=a.pinned,
            cleared=a.cleared,
            status=PUBLISHED,
        )
        for a in result.assignments
        if a.student_id not in still
    ]
    await uow.allocations.add(new_records, now)
    for record in new_records:
        await uow.emit(
            await _allocation_event(
                uow,
                AllocationPublished,
                record,
                sector_of[record.placement_id],
                rematch=not record.cleared,
                cleared=record.cleared,
            ),
            key=record.student_id,
        )
    touched = {r.employer_id for r in ended} | {r.employer_id for r in new_records}
    await _announce_employer_lists(uow, round_.id, sorted(touched))
    return Rematched(
        withdrawn=[_public(r) for r in ended],
        newly_allocated=[_public(r) for r in new_records],
    )


def _public(allocation: Allocation) -> dict[str, Any]:
    keys = ("student_id", "school_id", "placement_id", "employer_id", "week", "rank")
    return {k: getattr(allocation, k) for k in keys}


async def live_allocations(
    reads: PlacementsRepositories,
    round_: RoundRecord,
    school_ids: frozenset[str] | None,
    student_id: str | None = None,
) -> list[dict[str, Any]]:
    """Published allocations still standing, for every school or only some."""
    rows = await reads.allocations.live(round_.id, school_ids=school_ids, student_id=student_id)
    return [
        {**_public(r), "status": r.status, "pinned": r.pinned, "cleared": r.cleared} for r in rows
    ]
