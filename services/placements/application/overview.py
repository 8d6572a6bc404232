"""What the EBP's and students' pages show beside the JSON API's answers: names of schools
and placements, a partnership's employers, the rounds a student is in.

Placements holds no student's name (names never leave booking), so pages label a student by
a short reference, their year group and their school.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.placements.adapters import page_reads
from services.placements.adapters.page_reads import EmployerRow, PlacementRow
from services.placements.adapters.repository import load_placements
from services.placements.domain.vetting import VettingWarning, vetting_warnings

__all__ = [
    "Catalogue",
    "EmployerRow",
    "PlacementRow",
    "all_schools",
    "catalogue_with_warnings",
    "placement_names",
    "preference_count",
    "school_names",
    "student_reference",
]


def student_reference(student_id: str) -> str:
    """A short label for a student that says nothing about them: the start of their id."""
    return student_id.replace("-", "")[:6].upper()


async def school_names(session: AsyncSession, school_ids: Iterable[str]) -> dict[str, str]:
    return await page_reads.school_names(session, school_ids)


async def all_schools(session: AsyncSession, school_ids: Iterable[str] | None) -> dict[str, str]:
    return await page_reads.all_schools(session, school_ids)


@dataclass(frozen=True)
class Catalogue:
    employers: list[EmployerRow]
    placements: list[PlacementRow]
    warnings: list[VettingWarning]

    def placements_of(self, employer_id: str) -> list[PlacementRow]:
        return [p for p in self.placements if p.employer_id == employer_id]

    def warnings_of(self, employer_id: str) -> list[VettingWarning]:
        """The employer's lapsed or lapsing checks, once each (they cover every placement)."""
        seen: dict[str, VettingWarning] = {}
        for w in self.warnings:
            if w.employer_id == employer_id:
                seen.setdefault(w.check.value, w)
        return sorted(seen.values(), key=lambda w: w.expires)


async def catalogue_with_warnings(
    session: AsyncSession, ebp_id: str, today: date, days: int = 30
) -> Catalogue:
    """The partnership's employers and placements, with the vetting checks that lapse within
    `days` of `today` or have lapsed (the rule of `/api/v1/vetting-warnings`)."""
    found, listed = await page_reads.employers_of(session, ebp_id)
    warnings = vetting_warnings(await load_placements(session, ebp_id), today, days)
    return Catalogue(found, listed, warnings)


async def placement_names(
    session: AsyncSession, placement_ids: Iterable[str]
) -> dict[str, tuple[str, str]]:
    """Each placement's title and its employer's name."""
    return await page_reads.placement_names(session, placement_ids)


async def preference_count(session: AsyncSession, round_id: str) -> int:
    """How many students have stated preferences in the round."""
    return await page_reads.preference_count(session, round_id)
