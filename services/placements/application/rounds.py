"""Allocation rounds: EBP staff open one for a set of schools, each with its placement weeks."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from services.placements.application.access import RoundAccess, round_access
from services.placements.application.errors import Conflict, Invalid
from services.placements.application.ports import (
    PlacementsRepositories,
    PlacementsUnitOfWork,
    RoundRecord,
)
from shared.auth.principal import Principal, Role


@dataclass(frozen=True)
class OpenRound:
    ebp_id: str
    name: str
    year_group: int
    deadline: datetime
    school_weeks: Mapping[str, Sequence[str]]
    opened_by: str
    clearing_default: bool = False


async def open_round(cmd: OpenRound, uow: PlacementsUnitOfWork, now: datetime) -> RoundRecord:
    if cmd.deadline <= now:
        raise Invalid("deadline", "The deadline must be in the future.")
    known = await uow.directory.known_schools(list(cmd.school_weeks))
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
        created_at=now,
        published_run_id=None,
        published_at=None,
        school_weeks={school_id: tuple(weeks) for school_id, weeks in cmd.school_weeks.items()},
        clearing_default=cmd.clearing_default,
    )
    await uow.rounds.add(record, opened_by=cmd.opened_by)
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


async def visible_rounds(reads: PlacementsRepositories, principal: Principal) -> list[RoundAccess]:
    """Rounds the caller manages, or that include one of the caller's schools."""
    if principal.is_admin:
        found = await reads.rounds.every()
    elif principal.role is Role.EBP:
        if principal.ebp_id is None:
            return []
        found = await reads.rounds.of_ebp(principal.ebp_id)
    elif principal.role in (Role.STUDENT, Role.COORDINATOR):
        found = await reads.rounds.including_schools(principal.school_ids)
    else:
        return []
    return [round_access(principal, r) for r in found]
