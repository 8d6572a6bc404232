"""Reading rounds and their matching problem out of the tables, as domain objects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.orm import (
    allocation_rounds,
    allocations,
    employers,
    pins,
    placements,
    preferences,
    round_schools,
    schools,
    students,
    withdrawals,
)
from services.placements.adapters.postcode_districts import coordinates
from services.placements.application.errors import Conflict
from services.placements.application.ports import RoundRecord
from services.placements.domain.model import (
    GeoPoint,
    MatchingProblem,
    Pin,
    Placement,
    Preference,
    Student,
)
from services.placements.domain.weeks import monday_of

DEFAULT_TRAVEL_LIMIT_KM = 15.0
"""For a pinned student who never stated preferences: only used to explain, not to place."""


async def load_round(
    session: AsyncSession, round_id: str, *, for_update: bool = False
) -> RoundRecord | None:
    """One round; `for_update` locks its row until the transaction ends (on PostgreSQL).

    Every change to a round's records locks the round first, so changes to one round follow
    each other (as every write does on SQLite) and a check such as "not published yet" holds
    until the change commits.
    """
    query = sa.select(allocation_rounds).where(allocation_rounds.c.id == round_id)
    if for_update and session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    found = await _with_schools(session, (await session.execute(query)).all())
    return found[0] if found else None


async def load_rounds(
    session: AsyncSession, condition: sa.ColumnElement[bool]
) -> list[RoundRecord]:
    """The rounds matching `condition`, oldest first, in two queries however many there are."""
    query = sa.select(allocation_rounds).where(condition).order_by(allocation_rounds.c.created_at)
    return await _with_schools(session, (await session.execute(query)).all())


async def _with_schools(session: AsyncSession, rows: Sequence[Any]) -> list[RoundRecord]:
    if not rows:
        return []
    weeks: dict[str, dict[str, tuple[str, ...]]] = {row.id: {} for row in rows}
    for w in (
        await session.execute(
            sa.select(round_schools.c.round_id, round_schools.c.school_id, round_schools.c.weeks)
            .where(round_schools.c.round_id.in_(list(weeks)))
            .order_by(round_schools.c.round_id, round_schools.c.school_id)
        )
    ).all():
        weeks[w.round_id][w.school_id] = tuple(w.weeks)
    return [
        RoundRecord(
            id=row.id,
            ebp_id=row.ebp_id,
            name=row.name,
            year_group=row.year_group,
            deadline=row.deadline,
            created_at=row.created_at,
            published_run_id=row.published_run_id,
            published_at=row.published_at,
            school_weeks=weeks[row.id],
            clearing_default=row.clearing_default,
        )
        for row in rows
    ]


def placement_from_row(row: Any) -> Placement:
    """A row joining a placement with its employer's location and vetting dates."""
    capacity: dict[str, int] = row.capacity
    return Placement(
        id=row.id,
        employer_id=row.employer_id,
        sector=row.sector,
        location=GeoPoint(row.latitude, row.longitude),
        capacity={monday_of(week): places for week, places in capacity.items()},
        minimum_age=row.minimum_age,
        access_features=frozenset(row.accessibility),
        health_and_safety_expiry=row.health_safety_expires,
        insurance_expiry=row.insurance_expires,
    )


def catalogue_query(ebp_id: str | None) -> sa.Select[Any]:
    """Placements an EBP may match: its own employers' and those not tied to any EBP."""
    query = sa.select(
        placements,
        employers.c.latitude,
        employers.c.longitude,
        employers.c.name.label("employer_name"),
        employers.c.postcode_district,
        employers.c.health_safety_expires,
        employers.c.insurance_expires,
    ).join(employers, employers.c.id == placements.c.employer_id)
    if ebp_id is not None:
        query = query.where(sa.or_(employers.c.ebp_id.is_(None), employers.c.ebp_id == ebp_id))
    return query.order_by(placements.c.id)


async def load_placements(session: AsyncSession, ebp_id: str | None) -> list[Placement]:
    return [placement_from_row(r) for r in (await session.execute(catalogue_query(ebp_id))).all()]


def youngest_birth_date(year_group: int, on: date) -> date:
    """The latest birthday a student in this year group can have, when their record has none.

    English year groups run 1 September to 31 August: in the school year starting in September
    of year A, Year Y students were born between 1 September A-Y-5 and 31 August A-Y-4. Assuming
    the youngest keeps an employer's minimum age safe.
    """
    school_year = on.year if on.month >= 9 else on.year - 1
    return date(school_year - year_group - 4, 8, 31)


async def withdrawn_in(session: AsyncSession, round_id: str) -> tuple[set[str], set[str]]:
    rows = (
        await session.execute(
            sa.select(withdrawals.c.student_id, withdrawals.c.placement_id).where(
                withdrawals.c.round_id == round_id
            )
        )
    ).all()
    return (
        {r.student_id for r in rows if r.student_id},
        {r.placement_id for r in rows if r.placement_id},
    )


async def load_problem(
    session: AsyncSession, round_: RoundRecord, vetting_date: date
) -> MatchingProblem:
    """Students who stated preferences or hold a pin, the EBP's placements, and the pins."""
    school_rows = (
        await session.execute(sa.select(schools).where(schools.c.id.in_(list(round_.school_weeks))))
    ).all()
    homes = {r.id: _school_location(r) for r in school_rows}
    pin_rows = (await session.execute(sa.select(pins).where(pins.c.round_id == round_.id))).all()
    stated = {
        r.student_id: r
        for r in (
            await session.execute(sa.select(preferences).where(preferences.c.round_id == round_.id))
        ).all()
    }
    wanted = set(stated) | {p.student_id for p in pin_rows}
    student_rows = (
        await session.execute(
            sa.select(students).where(
                students.c.id.in_(sorted(wanted)),
                students.c.school_id.in_(list(round_.school_weeks)),
                students.c.year_group == round_.year_group,
            )
        )
    ).all()
    first_week = monday_of(round_.weeks[0]) if round_.weeks else vetting_date
    problem_students = []
    for row in student_rows:
        home = _home_location(row) or homes.get(row.school_id)
        if home is None:
            raise Conflict(
                f"school {row.school_id} has no known location; the directory must give its "
                "postcode district or coordinates before matching",
                kind="school-without-location",
            )
        stated_row = stated.get(row.id)
        problem_students.append(
            Student(
                id=row.id,
                school_id=row.school_id,
                birth_date=row.date_of_birth or youngest_birth_date(round_.year_group, first_week),
                home=home,
                travel_limit_km=stated_row.travel_limit_km
                if stated_row
                else DEFAULT_TRAVEL_LIMIT_KM,
                preferences=tuple(preference_from_json(c) for c in stated_row.choices)
                if stated_row
                else (),
                school_weeks=frozenset(monday_of(w) for w in round_.school_weeks[row.school_id]),
                disadvantaged=row.disadvantaged,
                sen=row.sen,
                access_needs=frozenset(stated_row.access_needs) if stated_row else frozenset(),
                clearing=_wants_clearing(stated_row, round_),
            )
        )
    in_problem = {s.id for s in problem_students}
    return MatchingProblem(
        students=tuple(problem_students),
        placements=tuple(await _places_left(session, round_)),
        pins=tuple(
            Pin(p.student_id, p.placement_id, monday_of(p.week))
            for p in pin_rows
            if p.student_id in in_problem
        ),
        vetting_date=vetting_date,
    )


async def _places_left(session: AsyncSession, round_: RoundRecord) -> list[Placement]:
    """The catalogue less the places other rounds' published allocations already hold.

    Rounds of one partnership share its employers, so a place given in one round is gone for
    every other round in the same week.
    """
    taken = (
        await session.execute(
            sa.select(allocations.c.placement_id, allocations.c.week, sa.func.count())
            .where(
                allocations.c.round_id != round_.id,
                allocations.c.status != "withdrawn",
            )
            .group_by(allocations.c.placement_id, allocations.c.week)
        )
    ).all()
    held: dict[str, dict[date, int]] = {}
    for placement_id, week, count in taken:
        held.setdefault(placement_id, {})[monday_of(week)] = count
    catalogue = await load_placements(session, round_.ebp_id)
    return [
        replace(
            p,
            capacity={
                week: max(0, places - held[p.id].get(week, 0))
                for week, places in p.capacity.items()
            },
        )
        if p.id in held
        else p
        for p in catalogue
    ]


def preference_from_json(choice: Mapping[str, str]) -> Preference:
    """A stated preference as the `preferences.choices` column stores it."""
    if choice.get("placement_id"):
        return Preference.for_placement(choice["placement_id"])
    return Preference.for_sector(choice["sector"])


def preference_json(preference: Preference) -> dict[str, str]:
    """The stored form of a preference: `{"placement_id": ...}` or `{"sector": ...}`."""
    if preference.placement_id is not None:
        return {"placement_id": preference.placement_id}
    return {"sector": preference.sector or ""}


def _wants_clearing(stated: Any, round_: RoundRecord) -> bool:
    """The student's own tick, or the round's default if they have not said."""
    if stated is None or stated.clearing is None:
        return round_.clearing_default
    return bool(stated.clearing)


def _home_location(row: Any) -> GeoPoint | None:
    """The middle of the student's home postcode district, when the directory gives one."""
    found = coordinates(None, None, row.home_district)
    return GeoPoint(*found) if found is not None else None


def _school_location(row: Any) -> GeoPoint | None:
    found = coordinates(row.latitude, row.longitude, row.postcode_district)
    return GeoPoint(*found) if found is not None else None
