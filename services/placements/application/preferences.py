"""Students' ranked preferences in a round, and the options they choose from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.orm import preferences, students
from services.placements.adapters.repository import (
    RoundRecord,
    catalogue_query,
    placement_from_row,
    preference_from_json,
    preference_json,
)
from services.placements.application.errors import Conflict, Invalid, NotFound
from services.placements.application.rounds import require_unpublished
from services.placements.domain.model import MAX_PREFERENCES, Preference
from services.placements.domain.scarcity import (
    OptionDemand,
    demand_and_supply,
    places_in_weeks,
)
from services.placements.domain.weeks import monday_of
from shared.db import upsert
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class SubmitPreferences:
    student_id: str
    choices: Sequence[Preference]
    travel_limit_km: float
    access_needs: Sequence[str]
    clearing: bool | None = None
    """Any suitable placement if no choice is possible; None leaves it to the round's default."""


@dataclass(frozen=True)
class StatedPreferences:
    student_id: str
    school_id: str
    choices: list[Preference]
    travel_limit_km: float
    access_needs: list[str]
    submitted_at: datetime
    clearing: bool | None = None


async def student_school(session: AsyncSession, round_: RoundRecord, student_id: str) -> str:
    """The school of a student taking part in the round."""
    row = (
        await session.execute(
            sa.select(students.c.school_id, students.c.year_group).where(
                students.c.id == student_id
            )
        )
    ).first()
    if row is None or not round_.includes_school(row.school_id):
        raise NotFound("No such student in this round.")
    if row.year_group != round_.year_group:
        raise NotFound("No such student in this round.")
    return str(row.school_id)


def require_open(round_: RoundRecord, now: datetime) -> None:
    require_unpublished(round_)
    if now > round_.deadline:
        raise Conflict(
            f"The deadline for preferences was {round_.deadline.isoformat()}.",
            kind="deadline-passed",
        )


async def submit_preferences(
    uow: UnitOfWork, round_: RoundRecord, cmd: SubmitPreferences, *, now: datetime | None = None
) -> StatedPreferences:
    now = now or datetime.now(UTC)
    school_id = await student_school(uow.session, round_, cmd.student_id)
    require_open(round_, now)
    if len(cmd.choices) > MAX_PREFERENCES:
        raise Invalid("choices", f"Choose at most {MAX_PREFERENCES} options.")
    weeks = [monday_of(w) for w in round_.school_weeks[school_id]]
    catalogue = [
        placement_from_row(r)
        for r in (await uow.session.execute(catalogue_query(round_.ebp_id))).all()
    ]
    by_id = {p.id: p for p in catalogue}
    running = {p.id for p in catalogue if places_in_weeks(p, weeks, now.date())}
    for index, choice in enumerate(cmd.choices):
        if choice in cmd.choices[:index]:
            raise Invalid(f"choices.{index}", "This option is already one of your choices.")
        if choice.placement_id is not None:
            placement = by_id.get(choice.placement_id)
            if placement is None:
                raise Invalid(f"choices.{index}.placement_id", "No such placement in this round.")
            if placement.id not in running:
                raise Invalid(
                    f"choices.{index}.placement_id",
                    "This placement has no places in your school's placement weeks.",
                )
        elif not any(p.sector == choice.sector and p.id in running for p in catalogue):
            raise Invalid(
                f"choices.{index}.sector",
                f"No placement in sector {choice.sector!r} runs in your school's placement weeks.",
            )
    stated = StatedPreferences(
        cmd.student_id,
        school_id,
        list(cmd.choices),
        cmd.travel_limit_km,
        sorted(set(cmd.access_needs)),
        now,
        cmd.clearing,
    )
    await upsert(
        uow.session,
        preferences,
        {
            "round_id": round_.id,
            "student_id": cmd.student_id,
            "choices": [preference_json(c) for c in stated.choices],
            "travel_limit_km": stated.travel_limit_km,
            "access_needs": stated.access_needs,
            "submitted_at": now,
            "clearing": stated.clearing,
        },
        key=("round_id", "student_id"),
    )
    await uow.commit()
    return stated


async def stated_preferences(
    session: AsyncSession, round_: RoundRecord, student_id: str, school_id: str
) -> StatedPreferences | None:
    """What the student (of `school_id`, as `student_school` found) stated, if anything."""
    row = (
        await session.execute(
            sa.select(preferences).where(
                preferences.c.round_id == round_.id, preferences.c.student_id == student_id
            )
        )
    ).first()
    if row is None:
        return None
    return StatedPreferences(
        student_id,
        school_id,
        [preference_from_json(c) for c in row.choices],
        row.travel_limit_km,
        list(row.access_needs),
        row.submitted_at,
        row.clearing,
    )


@dataclass(frozen=True)
class PlacementOption:
    placement_id: str
    employer_name: str
    title: str
    sector: str
    postcode_district: str | None
    weeks: list[str]
    minimum_age: int
    accessibility: list[str]
    demand: OptionDemand


async def round_options(
    session: AsyncSession, round_: RoundRecord, school_id: str, today: date
) -> tuple[list[OptionDemand], list[PlacementOption]]:
    """Sectors and placements running in the school's weeks, with how contested each is."""
    rows = (await session.execute(catalogue_query(round_.ebp_id))).all()
    catalogue = [placement_from_row(r) for r in rows]
    all_weeks = [monday_of(w) for w in round_.weeks]
    stated: Sequence[Any] = (
        (
            await session.execute(
                sa.select(preferences.c.choices).where(preferences.c.round_id == round_.id)
            )
        )
        .scalars()
        .all()
    )
    sectors, per_placement = demand_and_supply(
        catalogue,
        all_weeks,
        today,
        ([preference_from_json(c) for c in choices] for choices in stated),
    )
    school_weeks = set(round_.school_weeks[school_id])
    options = []
    for row, placement in zip(rows, catalogue, strict=True):
        weeks = sorted(w for w, n in row.capacity.items() if n > 0 and w in school_weeks)
        if not weeks or not places_in_weeks(placement, [monday_of(w) for w in weeks], today):
            continue
        options.append(
            PlacementOption(
                placement_id=row.id,
                employer_name=row.employer_name,
                title=row.title,
                sector=row.sector,
                postcode_district=row.postcode_district,
                weeks=weeks,
                minimum_age=row.minimum_age,
                accessibility=list(row.accessibility),
                demand=per_placement[row.id],
            )
        )
    offered = {o.sector for o in options}
    return [d for s, d in sectors.items() if s in offered], options
