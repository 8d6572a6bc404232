"""Importing the directory: providers, consortia, schools and their calendars, advisers,
students, staff.

Imports are all-or-nothing and idempotent. Every row is validated (by `parse_csv`, against
the schemas in `directory_rows`) and every reference checked against the file and the
database before anything is written; a re-import of an unchanged row writes nothing and
publishes nothing. Ids are derived from natural keys (a school's own student reference, a
staff email), so the same row always lands on the same record. What each kind of row writes
is in `directory_records`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from services.booking.application.directory_records import KINDS, ImportKind, Write
from services.booking.application.directory_rows import (
    AdviserRow,
    StaffRole,
    StaffRow,
    natural_id,
)
from services.booking.application.ports import DirectoryUnit
from shared.csvimport import CsvImportError, ParsedRow, RowError

Stored = dict[str, dict[str, dict[str, Any]]]  # by table, the rows by id


@dataclass(frozen=True)
class ImportDirectory:
    """The validated rows of one file of `kind` (a key of `KINDS`)."""

    kind: str
    rows: Sequence[ParsedRow[Any]]


@dataclass(frozen=True)
class ImportResult:
    rows: int
    written: int
    unchanged: int


async def import_directory(
    cmd: ImportDirectory,
    uow: DirectoryUnit,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Write the file's rows and commit; refuse the whole file if any reference is unknown
    or a natural key repeats (`CsvImportError`, every fault by line and field)."""
    spec, rows = KINDS[cmd.kind], cmd.rows
    errors = await _reference_errors(uow, spec, rows)
    errors += _duplicate_errors(cmd.kind, rows)
    if errors:
        raise CsvImportError(errors)
    ctx = {
        "coordinators": await uow.directory.named("coordinator"),
        "leads": await uow.directory.named("lead"),
    }
    writes = [spec.writes(parsed.value, ctx) for parsed in rows]
    stored = await _stored(uow, [write for row_writes in writes for write in row_writes])
    written = unchanged = 0
    for row_writes in writes:
        changed = await _apply_row(uow, row_writes, stored, now)
        written += changed
        unchanged += not changed
        if progress is not None:
            progress(1)
    if cmd.kind == "staff":
        await _name_coordinators(uow, [p.value for p in rows])
    if cmd.kind == "advisers":
        await _name_leads(uow, [p.value for p in rows])
    await uow.commit()
    uow.reference_changed()
    return ImportResult(len(rows), written, unchanged)


async def _stored(uow: DirectoryUnit, writes: Sequence[Write]) -> Stored:
    """What each table now holds under the ids about to be written: one read per table."""
    ids: dict[str, set[str]] = {}
    for write in writes:
        ids.setdefault(write.table, set()).add(write.values["id"])
    return {table: await uow.directory.stored(table, wanted) for table, wanted in ids.items()}


async def _apply_row(
    uow: DirectoryUnit, row_writes: Sequence[Write], stored: Stored, now: datetime
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
    readdressed = [
        (write.values["student_id"], write.values["role"], channel)
        for write, differs in zip(row_writes, changed, strict=True)
        if differs and write.table == "contacts"
        for channel, field in (("sms", "phone"), ("email", "email"))
        if (stored["contacts"].get(write.values["id"]) or {}).get(field) != write.values[field]
    ]
    for write, differs in zip(row_writes, changed, strict=True):
        table, values = write.table, write.values
        existing = stored[table].get(values["id"])
        if write.event is not None:
            revision = await uow.directory.write(
                table, values, now, new=existing is None, counted=True
            )
            await uow.emit(write.event.model_copy(update={"revision": revision}), key=write.key)
        elif differs:
            await uow.directory.write(table, values, now, new=existing is None, counted=False)
        stored[table][values["id"]] = {**(existing or {}), **values}
    for student_id, role, channel in readdressed:
        # A new number or address: what failed before says nothing of it (notifications
        # tries it afresh and reports a new failure anew). A change of consent alone keeps
        # the alert, as notifications keeps the route's failure.
        await uow.contact_alerts.forget_route(student_id, role, channel)
    return True


def _differs(write: Write, stored: dict[str, dict[str, Any]]) -> bool:
    existing = stored.get(write.values["id"])
    return existing is None or not all(
        k in existing and _same(existing[k], v) for k, v in write.values.items()
    )


def _same(stored: Any, new: Any) -> bool:
    if isinstance(new, StrEnum):
        new = new.value
    return bool(stored == new)


async def _reference_errors(
    uow: DirectoryUnit, spec: ImportKind, rows: Sequence[ParsedRow[Any]]
) -> list[RowError]:
    errors: list[RowError] = []
    for ref in spec.references:
        wanted: set[str] = set()
        for parsed in rows:
            value = getattr(parsed.value, ref.field)
            wanted.update(value if ref.many else ([value] if value else []))
        known = await uow.directory.existing_ids(ref.table, wanted)
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


async def _name_coordinators(uow: DirectoryUnit, rows: Sequence[StaffRow]) -> None:
    """A school's first imported coordinator becomes the named member of staff for chases."""
    for row in rows:
        if row.role is StaffRole.COORDINATOR:
            staff_id = natural_id("staff", row.email.lower())
            await uow.directory.name_coordinator(row.schools[0], staff_id)


async def _name_leads(uow: DirectoryUnit, rows: Sequence[AdviserRow]) -> None:
    """The lead (link) PA of each school, who fans out news to the other PAs there."""
    for row in rows:
        for school_id in row.lead_for:
            await uow.directory.name_lead(school_id, row.id)
