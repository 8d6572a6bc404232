"""Placements students find themselves (often through family).

The student registers the employer; EBP staff vet it (health and safety, insurance) and approve
it, which adds the employer and a one-place placement to the catalogue and pins the student to
it, so every later run keeps it fixed.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters.orm import (
    employers,
    placements,
    self_found_placements,
    students,
)
from services.placements.adapters.postcode_districts import (
    coordinates,
    district_of,
    normalise_postcode,
)
from services.placements.adapters.repository import RoundRecord
from services.placements.application.employers import employer_id_for, placement_id_for
from services.placements.application.errors import Conflict, Invalid, NotFound
from services.placements.application.pins import SELF_FOUND, PinRecord, save_pin
from services.placements.application.preferences import require_open, student_school
from services.placements.application.rounds import require_unpublished
from services.placements.domain.eligibility import LAST_DAY_OF_WEEK
from services.placements.domain.weeks import monday_of
from shared.events.placements import EmployerUpserted
from shared.uow import UnitOfWork

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


@dataclass(frozen=True)
class RegisterSelfFound:
    student_id: str
    employer_name: str
    contact_email: str
    postcode: str
    sector: str
    week: str


async def register_self_found(
    uow: UnitOfWork, round_: RoundRecord, cmd: RegisterSelfFound
) -> dict[str, Any]:
    s = uow.session
    school_id = await student_school(s, round_, cmd.student_id)
    require_open(round_, datetime.now(UTC))
    if cmd.week not in round_.school_weeks[school_id]:
        raise Invalid("week", "Choose one of your school's placement weeks.")
    if district_of(cmd.postcode) is None:
        raise Invalid("postcode", f"{cmd.postcode!r} is not a UK postcode.")
    existing = (
        await s.execute(
            sa.select(self_found_placements).where(
                self_found_placements.c.round_id == round_.id,
                self_found_placements.c.student_id == cmd.student_id,
            )
        )
    ).first()
    if existing is not None and existing.status != REJECTED:
        raise Conflict(
            "A self-found placement is already registered for this student.",
            kind="already-registered",
        )
    record = {
        "id": existing.id if existing is not None else str(uuid.uuid4()),
        "round_id": round_.id,
        "student_id": cmd.student_id,
        "employer_name": cmd.employer_name,
        "contact_email": cmd.contact_email,
        "postcode": normalise_postcode(cmd.postcode),
        "sector": cmd.sector,
        "week": cmd.week,
        "status": PENDING,
        "placement_id": None,
        "registered_at": datetime.now(UTC),
        "decided_at": None,
    }
    if existing is not None:
        await s.execute(
            self_found_placements.update()
            .where(self_found_placements.c.id == existing.id)
            .values(**record)
        )
    else:
        await s.execute(self_found_placements.insert().values(**record))
    await uow.commit()
    return {**record, "school_id": school_id}


@dataclass(frozen=True)
class ApproveSelfFound:
    self_found_id: str
    health_safety_expires: date
    insurance_expires: date
    minimum_age: int
    approved_by: str
    latitude: float | None = None
    longitude: float | None = None


async def _pending(s: AsyncSession, round_: RoundRecord, self_found_id: str) -> Any:
    row = (
        await s.execute(
            sa.select(self_found_placements).where(
                self_found_placements.c.id == self_found_id,
                self_found_placements.c.round_id == round_.id,
            )
        )
    ).first()
    if row is None:
        raise NotFound("No such self-found placement in this round.")
    if row.status != PENDING:
        raise Conflict(f"This self-found placement is already {row.status}.", kind=row.status)
    return row


async def approve_self_found(
    uow: UnitOfWork, round_: RoundRecord, cmd: ApproveSelfFound
) -> dict[str, Any]:
    s = uow.session
    row = await _pending(s, round_, cmd.self_found_id)
    require_unpublished(round_)
    last_day = monday_of(row.week) + LAST_DAY_OF_WEEK
    for name in ("health_safety_expires", "insurance_expires"):
        if getattr(cmd, name) < max(last_day, datetime.now(UTC).date()):
            raise Invalid(name, f"The check must be valid until at least {last_day.isoformat()}.")
    district = district_of(row.postcode)
    located = coordinates(cmd.latitude, cmd.longitude, district)
    if located is None:
        raise Invalid(
            "latitude",
            f"Postcode district {district} is not in the district table; give coordinates.",
        )
    latitude, longitude = located
    reference = f"self-found-{row.id}"
    employer_id, placement_id = employer_id_for(reference), placement_id_for(reference)
    await s.execute(
        employers.insert().values(
            id=employer_id,
            reference=reference,
            ebp_id=round_.ebp_id,
            name=row.employer_name,
            contact_email=row.contact_email,
            postcode=row.postcode,
            postcode_district=district,
            latitude=latitude,
            longitude=longitude,
            health_safety_expires=cmd.health_safety_expires,
            insurance_expires=cmd.insurance_expires,
        )
    )
    await s.execute(
        placements.insert().values(
            id=placement_id,
            reference=reference,
            employer_id=employer_id,
            title="Self-found placement",
            sector=row.sector,
            capacity={row.week: 1},
            minimum_age=cmd.minimum_age,
            accessibility=[],
            self_found=True,
        )
    )
    now = datetime.now(UTC)
    await save_pin(
        s,
        round_.id,
        PinRecord(row.student_id, placement_id, row.week, SELF_FOUND, now),
        pinned_by=cmd.approved_by,
    )
    await s.execute(
        self_found_placements.update()
        .where(self_found_placements.c.id == row.id)
        .values(status=APPROVED, placement_id=placement_id, decided_at=now)
    )
    await uow.emit(
        # A new employer row, at its first revision.
        EmployerUpserted(employer_id=employer_id, contact_email=row.contact_email, revision=1),
        key=employer_id,
    )
    await uow.commit()
    return {**dict(row._mapping), "status": APPROVED, "placement_id": placement_id}


async def reject_self_found(uow: UnitOfWork, round_: RoundRecord, self_found_id: str) -> None:
    row = await _pending(uow.session, round_, self_found_id)
    await uow.session.execute(
        self_found_placements.update()
        .where(self_found_placements.c.id == row.id)
        .values(status=REJECTED, decided_at=datetime.now(UTC))
    )
    await uow.commit()


async def list_self_found(
    session: AsyncSession,
    round_: RoundRecord,
    *,
    student_ids: Collection[str] | None = None,
    school_ids: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """The round's self-found placements: all, or only those of some students or schools."""
    query = sa.select(self_found_placements).where(self_found_placements.c.round_id == round_.id)
    if student_ids is not None:
        query = query.where(self_found_placements.c.student_id.in_(sorted(student_ids)))
    if school_ids is not None:
        query = query.join(students, students.c.id == self_found_placements.c.student_id).where(
            students.c.school_id.in_(sorted(school_ids)),
            students.c.year_group == round_.year_group,
        )
    rows = (await session.execute(query.order_by(self_found_placements.c.registered_at))).all()
    return [dict(r._mapping) for r in rows]
