"""The directory: providers, consortia, schools and their calendars, advisers, students, staff.

Imports are all-or-nothing and idempotent. Every row is validated (by `parse_csv`) and every
reference checked against the file and the database before anything is written; a re-import
of an unchanged row writes nothing and publishes nothing. Ids are derived from natural keys
(a school's own student reference, a staff email), so the same row always lands on the same
record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import (
    accounts,
    advisers,
    consortia,
    contacts,
    providers,
    rooms,
    school_periods,
    schools,
    students,
)
from services.booking.application.cache import invalidate
from services.booking.domain.model import AdviserKind, PriorityFlag
from shared.csvimport import CsvImportError, ParsedRow, RowError
from shared.db import upsert
from shared.events import EventPayload
from shared.events.directory import (
    HOME_DISTRICT,
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
from shared.uow import UnitOfWork

NAMESPACE = uuid.UUID("3d0d7f0e-3c1a-4f43-9d7e-0b6f2f5a9c11")
PHONE = r"^\+[1-9]\d{6,14}$"
# Ids per `IN (...)` when reading back what an import may overwrite: well under the bound
# parameter limits of both SQLite and PostgreSQL.
CHUNK = 500


def natural_id(kind: str, *key: object) -> str:
    """The stable id of a record named by its natural key (same row, same id, every import)."""
    return str(uuid.uuid5(NAMESPACE, "|".join([kind, *(str(k) for k in key)])))


def _split(value: object) -> object:
    """CSV cells hold lists as `a;b;c`."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    return value


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ProviderRow(_Row):
    id: str = Field(min_length=1, max_length=36)
    name: str = Field(min_length=1, max_length=200)


class ConsortiumRow(_Row):
    id: str = Field(min_length=1, max_length=36)
    name: str = Field(min_length=1, max_length=200)
    provider_id: str | None = Field(default=None, max_length=36)


class SchoolRow(_Row):
    id: str = Field(min_length=1, max_length=36)
    name: str = Field(min_length=1, max_length=200)
    consortium_id: str | None = Field(default=None, max_length=36)
    time_zone: str = "Europe/London"
    day_starts: time = time(8, 30)
    day_ends: time = time(15, 30)
    postcode_district: str | None = Field(default=None, pattern=r"^[A-Z]{1,2}\d[A-Z\d]?$")

    @model_validator(mode="after")
    def _day_in_order(self) -> SchoolRow:
        if self.day_ends <= self.day_starts:
            raise ValueError("day_ends must be after day_starts")
        if self.time_zone != "Europe/London":
            raise ValueError("schools in England use the Europe/London time zone")
        return self


class PeriodKind(StrEnum):
    TERM = "term"
    HOLIDAY = "holiday"
    EXAM = "exam"
    BLOCKED = "blocked"


class PeriodRow(_Row):
    school_id: str = Field(min_length=1, max_length=36)
    kind: PeriodKind
    first_day: date
    last_day: date
    starts: time | None = None
    ends: time | None = None

    @model_validator(mode="after")
    def _in_order(self) -> PeriodRow:
        if self.last_day < self.first_day:
            raise ValueError("last_day must not be before first_day")
        if (self.starts is None) != (self.ends is None):
            raise ValueError("give both starts and ends for a part-day period, or neither")
        if self.starts is not None and self.kind in (PeriodKind.TERM, PeriodKind.HOLIDAY):
            raise ValueError("only exam and blocked periods can be part days")
        return self


class RoomRow(_Row):
    school_id: str = Field(min_length=1, max_length=36)
    name: str = Field(min_length=1, max_length=200)
    confidential: bool = False


class AdviserRow(_Row):
    id: str = Field(min_length=1, max_length=36)
    name: str = Field(min_length=1, max_length=200)
    kinds: list[AdviserKind] = Field(min_length=1)
    email: EmailStr
    phone: str | None = Field(default=None, pattern=PHONE)
    provider_id: str | None = Field(default=None, max_length=36)
    schools: list[str] = Field(default_factory=list)
    lead_for: list[str] = Field(default_factory=list)

    _lists = field_validator("kinds", "schools", "lead_for", mode="before")(_split)

    @model_validator(mode="after")
    def _leads_where_serving(self) -> AdviserRow:
        if not set(self.lead_for) <= set(self.schools):
            raise ValueError("an adviser can be lead PA only at a school they serve")
        return self


class StudentRow(_Row):
    school_id: str = Field(min_length=1, max_length=36)
    reference: str = Field(min_length=1, max_length=40)
    year_group: int = Field(ge=7, le=13)
    display_name: str | None = Field(default=None, max_length=200)
    date_of_birth: date | None = None
    home_district: str | None = Field(
        default=None, pattern=HOME_DISTRICT, description="postcode district only, e.g. ME14"
    )
    priority_flags: list[PriorityFlag] = Field(default_factory=list)
    disadvantaged: bool = False
    student_email: EmailStr | None = None
    student_phone: str | None = Field(default=None, pattern=PHONE)
    student_sms_consent: bool = False
    student_email_consent: bool = False
    student_preferred: list[Channel] = Field(default_factory=list)
    parent_email: EmailStr | None = None
    parent_phone: str | None = Field(default=None, pattern=PHONE)
    parent_sms_consent: bool = False
    parent_email_consent: bool = False
    parent_preferred: list[Channel] = Field(default_factory=list)

    _lists = field_validator(
        "priority_flags", "student_preferred", "parent_preferred", mode="before"
    )(_split)


class StaffRole(StrEnum):
    COORDINATOR = "coordinator"
    EBP = "ebp"
    ADMIN = "admin"


class StaffRow(_Row):
    email: EmailStr
    role: StaffRole
    name: str = Field(min_length=1, max_length=200)
    schools: list[str] = Field(default_factory=list)
    phone: str | None = Field(default=None, pattern=PHONE)
    ebp_id: str | None = Field(default=None, max_length=36)

    _lists = field_validator("schools", mode="before")(_split)

    @model_validator(mode="after")
    def _schools_for_role(self) -> StaffRow:
        if self.role is StaffRole.COORDINATOR and len(self.schools) != 1:
            raise ValueError("a coordinator acts for exactly one school")
        return self


@dataclass(frozen=True)
class Reference:
    """A field of a row that must name a record of `table` (in the file or the database)."""

    field: str
    table: sa.Table
    many: bool = False


@dataclass(frozen=True)
class Write:
    table: sa.Table
    values: dict[str, Any]
    event: EventPayload | None = None
    key: str = ""


@dataclass(frozen=True)
class ImportKind:
    row: type[_Row]
    unique: tuple[str, ...]
    references: tuple[Reference, ...]
    writes: Callable[[Any, dict[str, Any]], list[Write]]


@dataclass(frozen=True)
class ImportResult:
    rows: int
    written: int
    unchanged: int


def _provider(row: ProviderRow, _ctx: dict[str, Any]) -> list[Write]:
    values = {"id": row.id, "name": row.name}
    return [Write(providers, values, ProviderUpserted(provider_id=row.id, name=row.name), row.id)]


def _consortium(row: ConsortiumRow, _ctx: dict[str, Any]) -> list[Write]:
    values = {"id": row.id, "name": row.name, "provider_id": row.provider_id}
    event = ConsortiumUpserted(consortium_id=row.id, name=row.name, provider_id=row.provider_id)
    return [Write(consortia, values, event, row.id)]


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
    return [Write(schools, values, event, row.id)]


def _period(row: PeriodRow, _ctx: dict[str, Any]) -> list[Write]:
    period_id = natural_id("period", row.school_id, row.kind, row.first_day, row.starts)
    values = {"id": period_id, **row.model_dump()}
    return [Write(school_periods, values)]


def _room(row: RoomRow, _ctx: dict[str, Any]) -> list[Write]:
    values = {"id": natural_id("room", row.school_id, row.name.lower()), **row.model_dump()}
    return [Write(rooms, values)]


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
    return [Write(advisers, values, event, row.id), Write(accounts, account)]


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
    writes = [Write(students, values)]
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
        writes.append(Write(contacts, contact))
    if row.student_email:
        account = _account(
            student_id, row.student_email, "student", [row.school_id], row.display_name, None
        )
        writes.append(Write(accounts, account))
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
    return [Write(students, values, event, student_id), *writes[1:]]


def _staff(row: StaffRow, _ctx: dict[str, Any]) -> list[Write]:
    staff_id = natural_id("staff", row.email.lower())
    schools_for = sorted(row.schools)
    account = _account(staff_id, row.email, row.role.value, schools_for, row.name, row.phone)
    account["ebp_id"] = row.ebp_id
    route = _work_route(ContactRole.STAFF, row.email, row.phone)
    event = StaffUpserted(
        staff_id=staff_id, role=row.role.value, school_ids=sorted(row.schools), contacts=[route]
    )
    return [Write(accounts, account, event, staff_id)]


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
        ConsortiumRow, ("id",), (Reference("provider_id", providers),), _consortium
    ),
    "schools": ImportKind(
        SchoolRow,
        ("id",),
        (Reference("consortium_id", consortia),),
        _school,
    ),
    "periods": ImportKind(PeriodRow, (), (Reference("school_id", schools),), _period),
    "rooms": ImportKind(RoomRow, (), (Reference("school_id", schools),), _room),
    "advisers": ImportKind(
        AdviserRow,
        ("id", "email"),
        (
            Reference("provider_id", providers),
            Reference("schools", schools, many=True),
            Reference("lead_for", schools, many=True),
        ),
        _adviser,
    ),
    "students": ImportKind(
        StudentRow, ("reference",), (Reference("school_id", schools),), _student
    ),
    "staff": ImportKind(StaffRow, ("email",), (Reference("schools", schools, many=True),), _staff),
}


async def import_directory(
    uow: UnitOfWork,
    kind: str,
    rows: Sequence[ParsedRow[Any]],
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Write validated rows of `kind`; refuse the whole file if any reference is unknown."""
    spec = KINDS[kind]
    errors = await _reference_errors(uow, spec, rows)
    errors += _duplicate_errors(kind, rows)
    if errors:
        raise CsvImportError(errors)
    ctx = {"coordinators": await _named(uow, schools.c.coordinator_id)}
    ctx["leads"] = await _named(uow, schools.c.lead_adviser_id)
    writes = [spec.writes(parsed.value, ctx) for parsed in rows]
    stored = await _stored(uow, [write for row_writes in writes for write in row_writes])
    written = unchanged = 0
    now = datetime.now(UTC)
    for row_writes in writes:
        changed = await _apply_row(uow, row_writes, stored, now)
        written += changed
        unchanged += not changed
        if progress is not None:
            progress(1)
    if kind == "staff":
        await _name_coordinators(uow, [p.value for p in rows])
    if kind == "advisers":
        await _name_leads(uow, [p.value for p in rows])
    await uow.commit()
    invalidate(uow.session)  # reference data changed: drop what this process holds
    return ImportResult(len(rows), written, unchanged)


async def _stored(uow: UnitOfWork, writes: Sequence[Write]) -> dict[sa.Table, dict[str, Any]]:
    """What each table now holds under the ids about to be written: one read per table
    (per `CHUNK` ids), not one per row."""
    ids: dict[sa.Table, set[str]] = {}
    for write in writes:
        ids.setdefault(write.table, set()).add(write.values["id"])
    stored: dict[sa.Table, dict[str, Any]] = {}
    for table, wanted in ids.items():
        found = stored[table] = {}
        ordered = sorted(wanted)
        for n in range(0, len(ordered), CHUNK):
            rows = await uow.session.execute(
                sa.select(table).where(table.c.id.in_(ordered[n : n + CHUNK]))
            )
            found.update((row.id, dict(row._mapping)) for row in rows)
    return stored


async def _apply_row(
    uow: UnitOfWork,
    row_writes: Sequence[Write],
    stored: dict[sa.Table, dict[str, dict[str, Any]]],
    now: datetime,
) -> bool:
    """Write one row's records; True when any was new or different.

    `stored` holds each table's rows by id as read before the import, kept up to date with
    what the import itself writes. A record's event covers the writes beside it (a student's
    contacts and account), so when any of them changed, the record is written with its
    revision raised and its event goes out carrying that revision.
    """
    changed = [_differs(write, stored[write.table]) for write in row_writes]
    if not any(changed):
        return False
    for write, differs in zip(row_writes, changed, strict=True):
        table, values = write.table, write.values
        existing = stored[table].get(values["id"])
        if write.event is not None:
            revision = await _write(uow, write, now, new=existing is None, counted=True)
            await uow.emit(write.event.model_copy(update={"revision": revision}), key=write.key)
        elif differs:
            await _write(uow, write, now, new=existing is None)
        stored[table][values["id"]] = {**(existing or {}), **values}
    return True


def _differs(write: Write, stored: dict[str, dict[str, Any]]) -> bool:
    existing = stored.get(write.values["id"])
    return existing is None or not all(
        k in existing and _same(existing[k], v) for k, v in write.values.items()
    )


async def _write(
    uow: UnitOfWork, write: Write, now: datetime, *, new: bool, counted: bool = False
) -> int | None:
    """Insert or update one record; when `counted`, raise its revision and return the new one."""
    table, values = write.table, write.values
    if table is not accounts:
        result = await upsert(uow.session, table, values, counter="revision" if counted else None)
        return int(result.scalar_one()) if counted else None
    if new:
        stmt: Any = accounts.insert().values(**values, created_at=now)
    else:
        stmt = accounts.update().where(accounts.c.id == values["id"]).values(**values)
        if counted:
            stmt = stmt.values(revision=accounts.c.revision + 1)
    if counted:
        stmt = stmt.returning(accounts.c.revision)
    result = await uow.session.execute(stmt)
    return int(result.scalar_one()) if counted else None


def _same(stored: Any, new: Any) -> bool:
    if isinstance(new, StrEnum):
        new = new.value
    return bool(stored == new)


async def _reference_errors(
    uow: UnitOfWork, spec: ImportKind, rows: Sequence[ParsedRow[Any]]
) -> list[RowError]:
    errors: list[RowError] = []
    for ref in spec.references:
        wanted: set[str] = set()
        for parsed in rows:
            value = getattr(parsed.value, ref.field)
            wanted.update(value if ref.many else ([value] if value else []))
        known = await _existing_ids(uow, ref.table, wanted)
        for parsed in rows:
            value = getattr(parsed.value, ref.field)
            for item in value if ref.many else ([value] if value else []):
                if item not in known:
                    errors.append(RowError(parsed.line, ref.field, f"no such record: {item}"))
    return errors


def _duplicate_errors(kind: str, rows: Sequence[ParsedRow[Any]]) -> list[RowError]:
    """Natural keys that span several fields (a room's school and name) must not repeat."""
    if kind not in ("rooms", "periods"):
        return []
    seen: dict[str, int] = {}
    errors = []
    spec = KINDS[kind]
    for parsed in rows:
        key = spec.writes(parsed.value, {"coordinators": {}, "leads": {}})[0].values["id"]
        if key in seen:
            errors.append(RowError(parsed.line, "(row)", f"repeats line {seen[key]}"))
        seen.setdefault(key, parsed.line)
    return errors


async def _existing_ids(uow: UnitOfWork, table: sa.Table, ids: set[str]) -> set[str]:
    if not ids:
        return set()
    found = await uow.session.scalars(sa.select(table.c.id).where(table.c.id.in_(sorted(ids))))
    return set(found)


async def student_school(session: AsyncSession, student_id: str) -> str | None:
    """The school of `student_id`, or None when there is no such student."""
    found: str | None = await session.scalar(
        sa.select(students.c.school_id).where(students.c.id == student_id)
    )
    return found


async def _named(uow: UnitOfWork, column: sa.Column[Any]) -> dict[str, str]:
    rows = await uow.session.execute(
        sa.select(schools.c.id, column.label("person")).where(column.is_not(None))
    )
    return {row.id: row.person for row in rows}


async def _name_coordinators(uow: UnitOfWork, rows: Sequence[StaffRow]) -> None:
    """A school's first imported coordinator becomes the named member of staff for chases."""
    for row in rows:
        if row.role is StaffRole.COORDINATOR:
            await uow.session.execute(
                schools.update()
                .where(schools.c.id == row.schools[0], schools.c.coordinator_id.is_(None))
                .values(coordinator_id=natural_id("staff", row.email.lower()))
            )


async def _name_leads(uow: UnitOfWork, rows: Sequence[AdviserRow]) -> None:
    """The lead (link) PA of each school, who fans out news to the other PAs there."""
    for row in rows:
        for school_id in row.lead_for:
            await uow.session.execute(
                schools.update().where(schools.c.id == school_id).values(lead_adviser_id=row.id)
            )
