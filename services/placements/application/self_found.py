"""Placements students find themselves (often through family).

The student registers the employer; EBP staff vet it (health and safety, insurance) and approve
it, which adds the employer and a one-place placement to the catalogue and pins the student to
it, so every later run keeps it fixed.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.placements.adapters.postcode_districts import (
    coordinates,
    district_of,
    normalise_postcode,
)
from services.placements.application.employers import employer_id_for, placement_id_for
from services.placements.application.errors import Conflict, Invalid, NotFound
from services.placements.application.pins import SELF_FOUND
from services.placements.application.ports import (
    PinRecord,
    PlacementsRepositories,
    PlacementsUnitOfWork,
    RoundRecord,
)
from services.placements.application.preferences import require_open, student_school
from services.placements.application.rounds import require_unpublished
from services.placements.domain.eligibility import LAST_DAY_OF_WEEK
from services.placements.domain.weeks import monday_of
from shared.events.placements import EmployerUpserted

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


@dataclass(frozen=True)
class RegisterSelfFound:
    round_: RoundRecord
    """The round as the transaction read (and locked) it."""
    student_id: str
    employer_name: str
    contact_email: str
    postcode: str
    sector: str
    week: str


async def register_self_found(
    cmd: RegisterSelfFound, uow: PlacementsUnitOfWork, now: datetime
) -> dict[str, Any]:
    round_ = cmd.round_
    school_id = await student_school(uow, round_, cmd.student_id)
    require_open(round_, now)
    if cmd.week not in round_.school_weeks[school_id]:
        raise Invalid("week", "Choose one of your school's placement weeks.")
    if district_of(cmd.postcode) is None:
        raise Invalid("postcode", f"{cmd.postcode!r} is not a UK postcode.")
    existing = await uow.self_found.of_student(round_.id, cmd.student_id)
    if existing is not None and existing["status"] != REJECTED:
        raise Conflict(
            "A self-found placement is already registered for this student.",
            kind="already-registered",
        )
    record = {
        "id": existing["id"] if existing is not None else str(uuid.uuid4()),
        "round_id": round_.id,
        "student_id": cmd.student_id,
        "employer_name": cmd.employer_name,
        "contact_email": cmd.contact_email,
        "postcode": normalise_postcode(cmd.postcode),
        "sector": cmd.sector,
        "week": cmd.week,
        "status": PENDING,
        "placement_id": None,
        "registered_at": now,
        "decided_at": None,
    }
    await uow.self_found.save(record, new=existing is None)
    await uow.commit()
    return {**record, "school_id": school_id}


@dataclass(frozen=True)
class ApproveSelfFound:
    round_: RoundRecord
    """The round as the transaction read (and locked) it."""
    self_found_id: str
    health_safety_expires: date
    insurance_expires: date
    minimum_age: int
    approved_by: str
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class RejectSelfFound:
    round_: RoundRecord
    self_found_id: str


async def _pending(
    repositories: PlacementsRepositories, round_: RoundRecord, self_found_id: str
) -> dict[str, Any]:
    row = await repositories.self_found.get(round_.id, self_found_id)
    if row is None:
        raise NotFound("No such self-found placement in this round.")
    if row["status"] != PENDING:
        raise Conflict(f"This self-found placement is already {row['status']}.", kind=row["status"])
    return row


async def approve_self_found(
    cmd: ApproveSelfFound, uow: PlacementsUnitOfWork, now: datetime
) -> dict[str, Any]:
    round_ = cmd.round_
    row = await _pending(uow, round_, cmd.self_found_id)
    require_unpublished(round_)
    last_day = monday_of(row["week"]) + LAST_DAY_OF_WEEK
    for name in ("health_safety_expires", "insurance_expires"):
        if getattr(cmd, name) < max(last_day, now.date()):
            raise Invalid(name, f"The check must be valid until at least {last_day.isoformat()}.")
    district = district_of(row["postcode"])
    located = coordinates(cmd.latitude, cmd.longitude, district)
    if located is None:
        raise Invalid(
            "latitude",
            f"Postcode district {district} is not in the district table; give coordinates.",
        )
    latitude, longitude = located
    reference = f"self-found-{row['id']}"
    employer_id, placement_id = employer_id_for(reference), placement_id_for(reference)
    await uow.catalogue.add_employer(
        {
            "id": employer_id,
            "reference": reference,
            "ebp_id": round_.ebp_id,
            "name": row["employer_name"],
            "contact_email": row["contact_email"],
            "postcode": row["postcode"],
            "postcode_district": district,
            "latitude": latitude,
            "longitude": longitude,
            "health_safety_expires": cmd.health_safety_expires,
            "insurance_expires": cmd.insurance_expires,
        }
    )
    await uow.catalogue.add_placement(
        {
            "id": placement_id,
            "reference": reference,
            "employer_id": employer_id,
            "title": "Self-found placement",
            "sector": row["sector"],
            "capacity": {row["week"]: 1},
            "minimum_age": cmd.minimum_age,
            "accessibility": [],
            "self_found": True,
        }
    )
    await uow.pins.save(
        round_.id,
        PinRecord(row["student_id"], placement_id, row["week"], SELF_FOUND, now),
        pinned_by=cmd.approved_by,
    )
    await uow.self_found.decide(row["id"], APPROVED, now, placement_id)
    await uow.emit(
        # A new employer row, at its first revision.
        EmployerUpserted(employer_id=employer_id, contact_email=row["contact_email"], revision=1),
        key=employer_id,
    )
    await uow.commit()
    return {**row, "status": APPROVED, "placement_id": placement_id}


async def reject_self_found(cmd: RejectSelfFound, uow: PlacementsUnitOfWork, now: datetime) -> None:
    row = await _pending(uow, cmd.round_, cmd.self_found_id)
    await uow.self_found.decide(row["id"], REJECTED, now)
    await uow.commit()


async def list_self_found(
    reads: PlacementsRepositories,
    round_: RoundRecord,
    *,
    student_ids: Collection[str] | None = None,
    school_ids: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """The round's self-found placements: all, or only those of some students or schools."""
    return await reads.self_found.in_round(round_, student_ids=student_ids, school_ids=school_ids)
