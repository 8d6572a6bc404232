"""What each kind of directory row writes: its records, and the event that tells the other
services; which of its fields name other records; what keys a file must not repeat."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.booking.application.directory_rows import (
    AdviserRow,
    ConsortiumRow,
    DirectoryRow,
    PeriodRow,
    ProviderRow,
    RoomRow,
    SchoolRow,
    StaffRow,
    StudentRow,
    natural_id,
)
from services.booking.domain.model import PriorityFlag
from shared.events import EventPayload
from shared.events.directory import (
    AdviserUpserted,
    Channel,
    ConsortiumUpserted,
    ContactRole,
    ContactRoute,
    ProviderUpserted,
    SchoolUpserted,
    StaffUpserted,
    StudentUpserted,
)


@dataclass(frozen=True)
class Reference:
    """A field of a row that must name a record of `table` (in the file or the database)."""

    field: str
    table: str
    many: bool = False


@dataclass(frozen=True)
class Write:
    """One record to write, into the directory table named `table`; with its event, if any."""

    table: str
    values: dict[str, Any]
    event: EventPayload | None = None
    key: str = ""


@dataclass(frozen=True)
class ImportKind:
    """One kind of file: its row schema, the keys no two rows share, the fields that name
    other records, and what a row writes."""

    row: type[DirectoryRow]
    unique: tuple[str, ...]
    references: tuple[Reference, ...]
    writes: Callable[[Any, dict[str, Any]], list[Write]]


def _provider(row: ProviderRow, _ctx: dict[str, Any]) -> list[Write]:
    values = {"id": row.id, "name": row.name}
    return [Write("providers", values, ProviderUpserted(provider_id=row.id, name=row.name), row.id)]


def _consortium(row: ConsortiumRow, _ctx: dict[str, Any]) -> list[Write]:
    values = {"id": row.id, "name": row.name, "provider_id": row.provider_id}
    event = ConsortiumUpserted(consortium_id=row.id, name=row.name, provider_id=row.provider_id)
    return [Write("consortia", values, event, row.id)]


def _school(row: SchoolRow, ctx: dict[str, Any]) -> list[Write]:
    values = {
        "id": row.id,
        "name": row.name,
        "consortium_id": row.consortium_id,
        "time_zone": row.time_zone,
        "day_starts": row.day_starts,
        "day_ends": row.day_ends,
        "postcode_district": row.postcode_district,
    }
    event = SchoolUpserted(
        school_id=row.id,
        name=row.name,
        consortium_id=row.consortium_id,
        day_starts=row.day_starts,
        day_ends=row.day_ends,
        postcode_district=row.postcode_district,
        lead_adviser_id=ctx["leads"].get(row.id),
        coordinator_id=ctx["coordinators"].get(row.id),
    )
    return [Write("schools", values, event, row.id)]


def _period(row: PeriodRow, _ctx: dict[str, Any]) -> list[Write]:
    period_id = natural_id("period", row.school_id, row.kind, row.first_day, row.starts)
    values = {"id": period_id, **row.model_dump()}
    return [Write("school_periods", values)]


def _room(row: RoomRow, _ctx: dict[str, Any]) -> list[Write]:
    values = {"id": natural_id("room", row.school_id, row.name.lower()), **row.model_dump()}
    return [Write("rooms", values)]


def _adviser(row: AdviserRow, _ctx: dict[str, Any]) -> list[Write]:
    values = {
        "id": row.id,
        "display_name": row.name,
        "kinds": sorted(k.value for k in row.kinds),
        "email": row.email.lower(),
        "phone": row.phone,
        "provider_id": row.provider_id,
    }
    route = _work_route(ContactRole.ADVISER, row.email, row.phone)
    event = AdviserUpserted(adviser_id=row.id, school_ids=sorted(row.schools), contacts=[route])
    account = _account(row.id, row.email, "adviser", sorted(row.schools), row.name, row.phone)
    return [Write("advisers", values, event, row.id), Write("accounts", account)]


def _student(row: StudentRow, ctx: dict[str, Any]) -> list[Write]:
    student_id = natural_id("student", row.school_id, row.reference)
    values = {
        "id": student_id,
        "school_id": row.school_id,
        "reference": row.reference,
        "year_group": row.year_group,
        "display_name": row.display_name,
        "date_of_birth": row.date_of_birth,
        "priority_flags": sorted(f.value for f in row.priority_flags),
        "disadvantaged": row.disadvantaged,
    }
    routes = []
    writes = [Write("students", values)]
    for role in (ContactRole.STUDENT, ContactRole.PARENT):
        prefix = role.value
        phone, email = getattr(row, f"{prefix}_phone"), getattr(row, f"{prefix}_email")
        if phone is None and email is None:
            continue
        route = ContactRoute(
            role=role,
            phone=phone,
            email=email.lower() if email else None,
            sms_consent=getattr(row, f"{prefix}_sms_consent"),
            email_consent=getattr(row, f"{prefix}_email_consent"),
            preferred=getattr(row, f"{prefix}_preferred"),
        )
        routes.append(route)
        contact = {
            "id": natural_id("contact", student_id, role),
            "student_id": student_id,
            **route.model_dump(mode="json"),
        }
        writes.append(Write("contacts", contact))
    if row.student_email:
        account = _account(
            student_id, row.student_email, "student", [row.school_id], row.display_name, None
        )
        writes.append(Write("accounts", account))
    event = StudentUpserted(
        student_id=student_id,
        school_id=row.school_id,
        year_group=row.year_group,
        date_of_birth=row.date_of_birth,
        home_district=row.home_district.upper() if row.home_district else None,
        disadvantaged=row.disadvantaged,
        sen=PriorityFlag.SEN in row.priority_flags,
        contacts=routes,
        coordinator_id=ctx["coordinators"].get(row.school_id),
    )
    return [Write("students", values, event, student_id), *writes[1:]]


def _staff(row: StaffRow, _ctx: dict[str, Any]) -> list[Write]:
    staff_id = natural_id("staff", row.email.lower())
    schools_for = sorted(row.schools)
    account = _account(staff_id, row.email, row.role.value, schools_for, row.name, row.phone)
    account["ebp_id"] = row.ebp_id
    route = _work_route(ContactRole.STAFF, row.email, row.phone)
    event = StaffUpserted(
        staff_id=staff_id, role=row.role.value, school_ids=sorted(row.schools), contacts=[route]
    )
    return [Write("accounts", account, event, staff_id)]


def _work_route(role: ContactRole, email: str, phone: str | None) -> ContactRoute:
    """How to reach an adviser or member of staff at work: email first; texts when a phone
    is given (work contact needs no consent)."""
    return ContactRoute(
        role=role,
        email=email.lower(),
        phone=phone,
        email_consent=True,
        sms_consent=phone is not None,
        preferred=[Channel.EMAIL],
    )


def _account(
    account_id: str,
    email: str,
    role: str,
    school_ids: list[str],
    name: str | None,
    phone: str | None,
) -> dict[str, Any]:
    """Accounts are created without a password: people set one through their invitation."""
    return {
        "id": account_id,
        "email": email.lower(),
        "role": role,
        "school_ids": school_ids,
        "person_id": account_id,
        "display_name": name,
        "phone": phone,
    }


KINDS: dict[str, ImportKind] = {
    "providers": ImportKind(ProviderRow, ("id",), (), _provider),
    "consortia": ImportKind(
        ConsortiumRow, ("id",), (Reference("provider_id", "providers"),), _consortium
    ),
    "schools": ImportKind(
        SchoolRow,
        ("id",),
        (Reference("consortium_id", "consortia"),),
        _school,
    ),
    "periods": ImportKind(PeriodRow, (), (Reference("school_id", "schools"),), _period),
    "rooms": ImportKind(RoomRow, (), (Reference("school_id", "schools"),), _room),
    "advisers": ImportKind(
        AdviserRow,
        ("id", "email"),
        (
            Reference("provider_id", "providers"),
            Reference("schools", "schools", many=True),
            Reference("lead_for", "schools", many=True),
        ),
        _adviser,
    ),
    "students": ImportKind(
        StudentRow, ("reference",), (Reference("school_id", "schools"),), _student
    ),
    "staff": ImportKind(
        StaffRow, ("email",), (Reference("schools", "schools", many=True),), _staff
    ),
}
