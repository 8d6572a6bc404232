"""Reads and small writes the staff and student pages need beyond the JSON API's: school
names, an EBP's employers with their placements, and a running matching's progress."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.orm import (
    employers,
    matching_runs,
    placements,
    preferences,
    schools,
)


async def school_names(session: AsyncSession, school_ids: Iterable[str]) -> dict[str, str]:
    ids = sorted(set(school_ids))
    if not ids:
        return {}
    rows = await session.execute(
        sa.select(schools.c.id, schools.c.name).where(schools.c.id.in_(ids))
    )
    return {r.id: r.name for r in rows}


async def all_schools(session: AsyncSession, school_ids: Iterable[str] | None) -> dict[str, str]:
    """Every school the directory has told placements of (or only `school_ids`), by name."""
    query = sa.select(schools.c.id, schools.c.name).order_by(schools.c.name)
    if school_ids is not None:
        query = query.where(schools.c.id.in_(sorted(set(school_ids))))
    return {r.id: r.name for r in await session.execute(query)}


@dataclass(frozen=True)
class EmployerRow:
    id: str
    reference: str
    name: str
    postcode_district: str | None
    health_safety_expires: date
    insurance_expires: date


@dataclass(frozen=True)
class PlacementRow:
    id: str
    reference: str
    employer_id: str
    title: str
    sector: str
    places: int


async def employers_of(
    session: AsyncSession, ebp_id: str | None
) -> tuple[list[EmployerRow], list[PlacementRow]]:
    """The employers a partnership may match (its own and those of no partnership; every one
    with `None`) and their imported placements."""
    query = sa.select(employers).order_by(employers.c.name, employers.c.reference)
    if ebp_id is not None:
        query = query.where(sa.or_(employers.c.ebp_id.is_(None), employers.c.ebp_id == ebp_id))
    found = [
        EmployerRow(
            r.id,
            r.reference,
            r.name,
            r.postcode_district,
            r.health_safety_expires,
            r.insurance_expires,
        )
        for r in await session.execute(query)
    ]
    ids = [e.id for e in found]
    rows: list[Any] = (
        list(
            await session.execute(
                sa.select(placements)
                .where(placements.c.employer_id.in_(ids), placements.c.self_found.is_(False))
                .order_by(placements.c.reference)
            )
        )
        if ids
        else []
    )
    listed = [
        PlacementRow(r.id, r.reference, r.employer_id, r.title, r.sector, sum(r.capacity.values()))
        for r in rows
    ]
    return found, listed


@dataclass(frozen=True)
class RunProgress:
    run_id: str
    round_id: str
    status: str
    stage: str | None
    done: int
    total: int


async def run_progress(session: AsyncSession, round_id: str, run_id: str) -> RunProgress | None:
    row = (
        await session.execute(
            sa.select(
                matching_runs.c.id,
                matching_runs.c.round_id,
                matching_runs.c.status,
                matching_runs.c.stage,
                matching_runs.c.progress_done,
                matching_runs.c.progress_total,
            ).where(matching_runs.c.id == run_id, matching_runs.c.round_id == round_id)
        )
    ).first()
    if row is None:
        return None
    return RunProgress(
        row.id, row.round_id, row.status, row.stage, row.progress_done or 0, row.progress_total or 0
    )


async def record_progress(
    session: AsyncSession, run_id: str, stage: str, done: int, total: int
) -> None:
    """Note how far a run has got (only its status says whether it is still running)."""
    await session.execute(
        matching_runs.update()
        .where(matching_runs.c.id == run_id)
        .values(stage=stage[:40], progress_done=done, progress_total=total)
    )


async def placement_names(
    session: AsyncSession, placement_ids: Iterable[str]
) -> dict[str, tuple[str, str]]:
    ids = sorted(set(placement_ids))
    if not ids:
        return {}
    rows = await session.execute(
        sa.select(placements.c.id, placements.c.title, employers.c.name)
        .join(employers, employers.c.id == placements.c.employer_id)
        .where(placements.c.id.in_(ids))
    )
    return {r.id: (r.title, r.name) for r in rows}


async def preference_count(session: AsyncSession, round_id: str) -> int:
    found = await session.scalar(
        sa.select(sa.func.count())
        .select_from(preferences)
        .where(preferences.c.round_id == round_id)
    )
    return int(found or 0)


async def references_of_others(
    session: AsyncSession, ebp_id: str, employer_refs: Iterable[str], placement_refs: Iterable[str]
) -> tuple[set[str], set[str]]:
    """Which of these employer and placement references belong to another partnership."""
    others = sa.and_(employers.c.ebp_id.is_not(None), employers.c.ebp_id != ebp_id)
    taken_employers = set(
        (
            await session.execute(
                sa.select(employers.c.reference).where(
                    employers.c.reference.in_(sorted(set(employer_refs))), others
                )
            )
        ).scalars()
    )
    taken_placements = set(
        (
            await session.execute(
                sa.select(placements.c.reference)
                .join(employers, employers.c.id == placements.c.employer_id)
                .where(placements.c.reference.in_(sorted(set(placement_refs))), others)
            )
        ).scalars()
    )
    return taken_employers, taken_placements
