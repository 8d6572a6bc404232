"""Clearing after publication: places freed since (by withdrawals, say) for opted-in students.

The same stage the round's run ends with (``domain.clearing``), over the places free now: every
live allocation stays as it is, and the new ones are published with their events in the same
transaction, as a re-match publishes its own.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from services.placements.application.errors import Conflict
from services.placements.application.ports import PlacementsUnitOfWork, RoundRecord
from services.placements.application.publication import Rematched, apply_new_allocations
from services.placements.domain.model import Assignment, MatchResult
from services.placements.domain.rematch import clear_after_publication
from services.placements.domain.weeks import monday_of


@dataclass(frozen=True)
class ClearPublished:
    round_: RoundRecord
    """The round as the transaction read (and locked) it."""


async def clear_published(
    cmd: ClearPublished, uow: PlacementsUnitOfWork, now: datetime
) -> Rematched:
    """Give opted-in students still unplaced the suitable places free now; nobody else moves.

    `now` also dates the vetting the clearing checks.
    """
    round_ = cmd.round_
    if round_.published_at is None or round_.published_run_id is None:
        raise Conflict("Nothing is published in this round yet.", kind="round-not-published")
    live_rows = await uow.allocations.live(round_.id)
    gone_students, gone_placements = await uow.withdrawals.in_round(round_.id)
    problem = await uow.problems.load(round_, now.date())
    basis = await uow.runs.basis(round_.published_run_id)
    in_problem = {st.id for st in problem.students}
    previous = MatchResult(
        assignments=tuple(
            Assignment(r.student_id, r.placement_id, monday_of(r.week), r.rank, r.pinned, r.cleared)
            for r in live_rows
            if r.student_id in in_problem
        ),
        unplaced=(),
        school_quotas=basis.school_quotas,
        seed=basis.seed,
    )
    result = await asyncio.to_thread(
        clear_after_publication, problem, previous, gone_students, gone_placements
    )
    outcome = await apply_new_allocations(
        uow, round_, live_rows, result, set(), set(), problem, now
    )
    await uow.commit()
    return outcome
