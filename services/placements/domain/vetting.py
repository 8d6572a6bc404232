"""Vetting checks that have lapsed or will lapse soon, so EBP staff can chase the employer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from services.placements.domain.model import Placement


class VettingCheck(StrEnum):
    HEALTH_AND_SAFETY = "health_and_safety"
    INSURANCE = "insurance"


@dataclass(frozen=True, slots=True)
class VettingWarning:
    """A vetting check that has lapsed or will lapse soon, so EBP staff can chase the employer."""

    placement_id: str
    employer_id: str
    check: VettingCheck
    expires: date
    expired: bool


def vetting_warnings(
    placements: Iterable[Placement], today: date, days: int = 30
) -> list[VettingWarning]:
    """Checks lapsing within ``days`` of ``today`` (or already lapsed), soonest first."""
    horizon = today + timedelta(days=days)
    warnings = [
        VettingWarning(p.id, p.employer_id, check, expires, expired=expires < today)
        for p in placements
        for check, expires in (
            (VettingCheck.HEALTH_AND_SAFETY, p.health_and_safety_expiry),
            (VettingCheck.INSURANCE, p.insurance_expiry),
        )
        if expires <= horizon
    ]
    return sorted(warnings, key=lambda w: (w.expires, w.placement_id, w.check))
