"""Revisions for what placements announces about allocations (`shared/events/revision.py`).

Events about a student are keyed by the student and carry one counter per round, running on
across a withdrawal and the re-match after it; an employer's list has its own per round. Each
is raised by the one statement that reads it, so concurrent requests never share a value.
(An employer's own revision lives on its row and is raised by the upsert that changes it.)
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.orm import allocation_revisions
from shared.db import upsert

STUDENT, EMPLOYER = "student", "employer"


async def next_revision(session: AsyncSession, round_id: str, holder: str, holder_id: str) -> int:
    """The revision for the next event about `holder_id`'s allocations in `round_id`."""
    result = await upsert(
        session,
        allocation_revisions,
        {"round_id": round_id, "holder": holder, "holder_id": holder_id},
        key=("round_id", "holder", "holder_id"),
        counter="revision",
    )
    return int(result.scalar_one())
