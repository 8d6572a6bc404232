"""Allocation rounds: EBP staff open one for a set of schools, each with its placement weeks."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.orm import allocation_rounds, round_schools, schools
from services.placements.adapters.repository import RoundRecord, load_rounds
from services.placements.application.access import RoundAccess, round_access
from services.placements.application.errors import Conflict, Invalid
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
    clearing_default: bool = False


async def open_round(uow: UnitOfWork, cmd: OpenRound) -> RoundRecord:
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
    record = RoundRecord(
        id=str(uuid.uuid4()),
        ebp_id=cmd.ebp_id,
        name=cmd.name,
        year_group=cmd.year_group,
        deadline=cmd.deadline.astimezone(UTC),
        created_at=datetime.now(UTC),
        published_run_id=None,
        published_at=None,
        school_weeks={school_id: tuple(weeks) for school_id, weeks in cmd.school_weeks.items()},
        clearing_default=cmd.clearing_default,
    )
    await uow.session.execute(
        allocation_rounds.insert().values(
            id=record.id,
            ebp_id=record.ebp_id,
            name=record.name,
            year_group=record.year_group,
            deadline=record.deadline,
            created_by=cmd.opened_by,
            created_at=record.created_at,
            clearing_default=record.clearing_default,
        )
    )
    await uow.session.execute(
        round_schools.insert(),
        [
            {"round_id": record.id, "school_id": school_id, "weeks": list(weeks)}
            for school_id, weeks in record.school_weeks.items()
        ],
    )
    await uow.commit()
    return record


def require_unpublished(round_: RoundRecord, then: str | None = None) -> None:
    """Refuse a change that would no longer count once the round's allocations are out;
    `then` tells the caller what to do instead."""
    if round_.published_at is not None:
        raise already_published(then)


def already_published(then: str | None = None) -> Conflict:
    detail = "Allocations for this round are already published"
    return Conflict(f"{detail}; {then}." if then else f"{detail}.", kind="round-published")


async def visible_rounds(session: AsyncSession, principal: Principal) -> list[RoundAccess]:
    """Rounds the caller manages, or that include one of the caller's schools."""
    if principal.is_admin:
        condition: sa.ColumnElement[bool] = sa.true()
    elif principal.role is Role.EBP:
        if principal.ebp_id is None:
            return []
        condition = allocation_rounds.c.ebp_id == principal.ebp_id
    elif principal.role in (Role.STUDENT, Role.COORDINATOR):
        condition = allocation_rounds.c.id.in_(
            sa.select(round_schools.c.round_id).where(
                round_schools.c.school_id.in_(sorted(principal.school_ids))
            )
        )
    else:
        return []
    return [round_access(principal, r) for r in await load_rounds(session, condition)]
