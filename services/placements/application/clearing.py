"""Clearing after publication: places freed since (by withdrawals, say) for opted-in students.

The same stage the round's run ends with (``domain.clearing``), over the places free now: every
live allocation stays as it is, and the new ones are published with their events in the same
transaction, as a re-match publishes its own.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import sqlalchemy as sa

from services.placements.adapters.orm import allocations, matching_runs
from services.placements.adapters.repository import RoundRecord, load_problem, withdrawn_in
from services.placements.application.errors import Conflict
from services.placements.application.publication import (
    LIVE,
    Rematched,
    apply_new_allocations,
)
from services.placements.domain.model import Assignment, MatchResult
from services.placements.domain.rematch import clear_after_publication
from services.placements.domain.weeks import monday_of
from shared.uow import UnitOfWork


async def clear_published(
    uow: UnitOfWork, round_: RoundRecord, *, today: date | None = None
) -> Rematched:
    """Give opted-in students still unplaced the suitable places free now; nobody else moves."""
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
    gone_students, gone_placements = await withdrawn_in(s, round_.id)
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
            if r.student_id in in_problem
        ),
        unplaced=(),
        school_quotas=run.school_quotas or {},
        seed=run.seed,
    )
    result = await asyncio.to_thread(
        clear_after_publication, problem, previous, gone_students, gone_placements
    )
    outcome = await apply_new_allocations(
        uow, round_, live_rows, result, set(), set(), problem, datetime.now(UTC)
    )
    await uow.commit()
    return outcome
