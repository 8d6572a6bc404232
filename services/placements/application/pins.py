"""Pins: allocations EBP staff fix before matching, which every re-run respects.

A pin may override a student's preferences, travel limit and school weeks (staff have agreed it
with the family), but never a placement's capacity or lapsed vetting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.placements.application.errors import Conflict, Invalid, NotFound
from services.placements.application.ports import (
    PinRecord,
    PlacementsRepositories,
    PlacementsUnitOfWork,
    RoundRecord,
)
from services.placements.application.preferences import student_school
from services.placements.application.rounds import require_unpublished
from services.placements.domain.eligibility import vetting_valid_for_week
from services.placements.domain.weeks import InvalidWeek, monday_of

STAFF, SELF_FOUND = "staff", "self_found"


@dataclass(frozen=True)
class PinStudent:
    round_: RoundRecord
    """The round as the transaction read (and locked) it."""
    student_id: str
    placement_id: str
    week: str
    pinned_by: str
    source: str = STAFF


@dataclass(frozen=True)
class UnpinStudent:
    round_: RoundRecord
    student_id: str


async def pin_student(cmd: PinStudent, uow: PlacementsUnitOfWork, now: datetime) -> PinRecord:
    round_ = cmd.round_
    require_unpublished(round_)
    await student_school(uow, round_, cmd.student_id)
    placement = await uow.catalogue.placement(round_.ebp_id, cmd.placement_id)
    if placement is None:
        raise Invalid("placement_id", "No such placement in this round.")
    try:
        monday = monday_of(cmd.week)
    except InvalidWeek as exc:
        raise Invalid("week", str(exc)) from exc
    places = placement.places_in(monday)
    if places == 0:
        raise Invalid("week", f"The placement has no places in {cmd.week}.")
    if not vetting_valid_for_week(placement, monday, now.date()):
        raise Invalid(
            "placement_id",
            f"The employer's health and safety check or insurance does not cover {cmd.week}.",
            kind="vetting-expired",
        )
    taken = await uow.pins.others_at(round_.id, cmd.placement_id, cmd.week, besides=cmd.student_id)
    if taken >= places:
        raise Conflict(
            f"Every place at this placement in {cmd.week} is already pinned.",
            kind="placement-full",
        )
    record = PinRecord(cmd.student_id, cmd.placement_id, cmd.week, cmd.source, now)
    await uow.pins.save(round_.id, record, pinned_by=cmd.pinned_by)
    await uow.commit()
    return record


async def unpin_student(cmd: UnpinStudent, uow: PlacementsUnitOfWork) -> None:
    require_unpublished(cmd.round_)
    if not await uow.pins.remove(cmd.round_.id, cmd.student_id):
        raise NotFound("This student has no pin in this round.")
    await uow.commit()


async def list_pins(reads: PlacementsRepositories, round_: RoundRecord) -> list[PinRecord]:
    return await reads.pins.in_round(round_.id)
