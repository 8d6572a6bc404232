"""What the EBP's and students' pages show beside the JSON API's answers: names of schools
and placements, a partnership's employers, the rounds a student is in.

Placements holds no student's name (names never leave booking), so pages label a student by
a short reference, their year group and their school.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from services.placements.application.ports import (
    ListedEmployer,
    ListedPlacement,
    PageRepositories,
)
from services.placements.domain.vetting import VettingWarning, vetting_warnings

__all__ = [
    "Catalogue",
    "ListedEmployer",
    "ListedPlacement",
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


async def school_names(reads: PageRepositories, school_ids: Iterable[str]) -> dict[str, str]:
    return await reads.overview.school_names(school_ids)


async def all_schools(reads: PageRepositories, school_ids: Iterable[str] | None) -> dict[str, str]:
    return await reads.overview.all_schools(school_ids)


@dataclass(frozen=True)
class Catalogue:
    employers: list[ListedEmployer]
    placements: list[ListedPlacement]
    warnings: list[VettingWarning]

    def placements_of(self, employer_id: str) -> list[ListedPlacement]:
        return [p for p in self.placements if p.employer_id == employer_id]

    def warnings_of(self, employer_id: str) -> list[VettingWarning]:
        """The employer's lapsed or lapsing checks, once each (they cover every placement)."""
        seen: dict[str, VettingWarning] = {}
        for w in self.warnings:
            if w.employer_id == employer_id:
                seen.setdefault(w.check.value, w)
        return sorted(seen.values(), key=lambda w: w.expires)


async def catalogue_with_warnings(
    reads: PageRepositories, ebp_id: str, today: date, days: int = 30
) -> Catalogue:
    """The partnership's employers and placements, with the vetting checks that lapse within
    `days` of `today` or have lapsed (the rule of `/api/v1/vetting-warnings`)."""
    found, listed = await reads.overview.employers_of(ebp_id)
    matched = [entry.placement for entry in await reads.catalogue.entries(ebp_id)]
    warnings = vetting_warnings(matched, today, days)
    return Catalogue(found, listed, warnings)


async def placement_names(
    reads: PageRepositories, placement_ids: Iterable[str]
) -> dict[str, tuple[str, str]]:
    """Each placement's title and its employer's name."""
    return await reads.overview.placement_names(placement_ids)


async def preference_count(reads: PageRepositories, round_id: str) -> int:
    """How many students have stated preferences in the round."""
    return await reads.overview.preference_count(round_id)
