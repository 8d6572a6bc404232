"""EBP staff import their own partnership's employers from their pages.

The import is the command line's (`employers.import_employers`), whose references are the
natural keys across the whole service. A partnership may add and update its own employers
and those of no partnership, but a reference another partnership already uses is refused
with the file's other faults, by line and field, so that nobody takes over another
partnership's employer or placement by reusing its reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.placements.application.employers import (
    ImportEmployers,
    ImportSummary,
    PlacementRow,
    import_employers,
)
from services.placements.application.ports import PageUnitOfWork
from shared.csvimport import CsvImportError, ParsedRow, RowError


@dataclass(frozen=True)
class ImportForPartnership:
    rows: Sequence[ParsedRow[PlacementRow]]
    """Rows `read_employers_file` has checked."""
    ebp_id: str
    """The partnership importing them, which the employers added belong to."""


async def import_for_partnership(cmd: ImportForPartnership, uow: PageUnitOfWork) -> ImportSummary:
    rows = cmd.rows
    taken_employers, taken_placements = await uow.overview.references_of_others(
        cmd.ebp_id,
        [r.value.employer_ref for r in rows],
        [r.value.placement_ref for r in rows],
    )
    errors = [
        RowError(r.line, name, "belongs to another partnership's record: use another reference")
        for r in rows
        for name, taken in (
            ("employer_ref", r.value.employer_ref in taken_employers),
            ("placement_ref", r.value.placement_ref in taken_placements),
        )
        if taken
    ]
    if errors:
        raise CsvImportError(errors)
    return await import_employers(ImportEmployers(rows, ebp_id=cmd.ebp_id), uow)
