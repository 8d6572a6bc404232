"""Allocation rounds: EBP staff open one for a set of schools, each with its placement weeks."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.orm import allocation_rounds, round_schools, schools
from services.placements.adapters.repository import RoundRecord, load_round
from services.placements.application.access import manages_round
from services.placements.application.errors import Invalid
from shared.auth.principal import Principal, Role
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class OpenRound:
    ebp_id: str
    name: str
    year_group: int
    deadline: datetime
    school_weeks: Mapping[str, Sequence[str]]
    opened_by: str


async def open_round(uow: UnitOfWork, cmd: OpenRound) -> str:
    if cmd.deadline <= datetime.now(UTC):
        raise Invalid("deadline", "The deadline must be in the future.")
    known = set(
        (
            await uow.session.execute(
                sa.select(schools.c.id).where(schools.c.id.in_(list(cmd.school_weeks)))
            )
        ).scalars()
    )
    for index, school_id in enumerate(cmd.school_weeks):
        if school_id not in known:
            raise Invalid(
                f"schools.{index}.school_id",
                f"School {school_id} is not in the directory yet.",
                kind="unknown-school",
            )
    round_id = str(uuid.uuid4())
    await uow.session.execute(
        allocation_rounds.insert().values(
            id=round_id,
            ebp_id=cmd.ebp_id,
            name=cmd.name,
            year_group=cmd.year_group,
            deadline=cmd.deadline,
            created_by=cmd.opened_by,
            created_at=datetime.now(UTC),
        )
    )
    await uow.session.execute(
        round_schools.insert(),
        [
            {"round_id": round_id, "school_id": school_id, "weeks": list(weeks)}
            for school_id, weeks in cmd.school_weeks.items()
        ],
    )
    await uow.commit()
    return round_id


async def visible_rounds(session: AsyncSession, principal: Principal) -> list[RoundRecord]:
    """Rounds the caller manages, or that include one of the caller's schools."""
    query = sa.select(allocation_rounds.c.id).order_by(allocation_rounds.c.created_at)
    if principal.role is Role.EBP:
        query = query.where(allocation_rounds.c.ebp_id == (principal.ebp_id or ""))
    elif not principal.is_admin:
        query = query.join(round_schools, round_schools.c.round_id == allocation_rounds.c.id).where(
            round_schools.c.school_id.in_(sorted(principal.school_ids))
        )
    found = []
    for round_id in dict.fromkeys((await session.execute(query)).scalars()):
        record = await load_round(session, round_id)
        if record is not None and (
            manages_round(principal, record) or principal.role in (Role.STUDENT, Role.COORDINATOR)
        ):
            found.append(record)
    return found
