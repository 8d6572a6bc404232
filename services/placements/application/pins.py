"""Pins: allocations EBP staff fix before matching, which every re-run respects.

A pin may override a student's preferences, travel limit and school weeks (staff have agreed it
with the family), but never a placement's capacity or lapsed vetting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.orm import pins, placements
from services.placements.adapters.repository import RoundRecord, catalogue_query, placement_from_row
from services.placements.application.errors import Conflict, Invalid, NotFound
from services.placements.application.preferences import student_school
from services.placements.application.rounds import require_unpublished
from services.placements.domain.eligibility import vetting_valid_for_week
from services.placements.domain.weeks import InvalidWeek, monday_of
from shared.db import upsert
from shared.uow import UnitOfWork

STAFF, SELF_FOUND = "staff", "self_found"


@dataclass(frozen=True)
class PinRecord:
    student_id: str
    placement_id: str
    week: str
    source: str
    pinned_at: datetime


async def pin_student(
    uow: UnitOfWork,
    round_: RoundRecord,
    student_id: str,
    placement_id: str,
    week: str,
    *,
    pinned_by: str,
    source: str = STAFF,
) -> PinRecord:
    require_unpublished(round_)
    await student_school(uow.session, round_, student_id)
    row = (
        await uow.session.execute(
            catalogue_query(round_.ebp_id).where(placements.c.id == placement_id)
        )
    ).first()
    if row is None:
        raise Invalid("placement_id", "No such placement in this round.")
    placement = placement_from_row(row)
    try:
        monday = monday_of(week)
    except InvalidWeek as exc:
        raise Invalid("week", str(exc)) from exc
    places = placement.places_in(monday)
    if places == 0:
        raise Invalid("week", f"The placement has no places in {week}.")
    if not vetting_valid_for_week(placement, monday, datetime.now(UTC).date()):
        raise Invalid(
            "placement_id",
            f"The employer's health and safety check or insurance does not cover {week}.",
            kind="vetting-expired",
        )
    taken = await uow.session.scalar(
        sa.select(sa.func.count())
        .select_from(pins)
        .where(
            pins.c.round_id == round_.id,
            pins.c.placement_id == placement_id,
            pins.c.week == week,
            pins.c.student_id != student_id,
        )
    )
    if (taken or 0) >= places:
        raise Conflict(
            f"Every place at this placement in {week} is already pinned.", kind="placement-full"
        )
    record = PinRecord(student_id, placement_id, week, source, datetime.now(UTC))
    await save_pin(uow.session, round_.id, record, pinned_by=pinned_by)
    await uow.commit()
    return record


async def save_pin(
    session: AsyncSession, round_id: str, record: PinRecord, *, pinned_by: str
) -> None:
    await upsert(
        session,
        pins,
        {
            "round_id": round_id,
            "student_id": record.student_id,
            "placement_id": record.placement_id,
            "week": record.week,
            "source": record.source,
            "pinned_by": pinned_by,
            "pinned_at": record.pinned_at,
        },
        key=("round_id", "student_id"),
    )


async def unpin_student(uow: UnitOfWork, round_: RoundRecord, student_id: str) -> None:
    require_unpublished(round_)
    deleted: CursorResult[Any] = await uow.session.execute(  # type: ignore[assignment]
        pins.delete().where(pins.c.round_id == round_.id, pins.c.student_id == student_id)
    )
    if not deleted.rowcount:
        raise NotFound("This student has no pin in this round.")
    await uow.commit()


async def list_pins(session: AsyncSession, round_: RoundRecord) -> list[PinRecord]:
    rows = (
        await session.execute(
            sa.select(pins).where(pins.c.round_id == round_.id).order_by(pins.c.student_id)
        )
    ).all()
    return [PinRecord(r.student_id, r.placement_id, r.week, r.source, r.pinned_at) for r in rows]
