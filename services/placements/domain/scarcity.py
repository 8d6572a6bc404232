"""How contested each option of a round is, so students can choose realistically.

Demand is the number of students whose preferences point at an option (once per student, at
any rank); supply is the places it has in the round's weeks, counting only placements whose
vetting is valid. An option is flagged scarce when at least `SCARCE_RATIO` students want each
place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from services.placements.domain.eligibility import vetting_valid_for_week
from services.placements.domain.model import Placement, Preference

SCARCE_RATIO = 2.0


@dataclass(frozen=True, slots=True)
class OptionDemand:
    key: str
    places: int
    demand: int

    @property
    def ratio(self) -> float | None:
        return round(self.demand / self.places, 2) if self.places else None

    @property
    def scarce(self) -> bool:
        return self.places == 0 or self.demand >= SCARCE_RATIO * self.places


def places_in_weeks(placement: Placement, weeks: Iterable[date], vetting_date: date) -> int:
    return sum(
        placement.places_in(week)
        for week in weeks
        if vetting_valid_for_week(placement, week, vetting_date)
    )


def demand_and_supply(
    placements: Sequence[Placement],
    weeks: Sequence[date],
    vetting_date: date,
    stated: Iterable[Sequence[Preference]],
) -> tuple[dict[str, OptionDemand], dict[str, OptionDemand]]:
    """Per sector and per placement, for one round."""
    by_id = {p.id: p for p in placements}
    sector_demand: Counter[str] = Counter()
    placement_demand: Counter[str] = Counter()
    for choices in stated:
        wanted = {c.sector for c in choices if c.sector}
        named = {c.placement_id for c in choices if c.placement_id in by_id}
        wanted |= {by_id[pid].sector for pid in named if pid is not None}
        sector_demand.update(wanted)
        placement_demand.update(pid for pid in named if pid is not None)
    places = {p.id: places_in_weeks(p, weeks, vetting_date) for p in placements}
    sector_places: Counter[str] = Counter()
    for p in placements:
        sector_places[p.sector] += places[p.id]
    sectors = {
        sector: OptionDemand(sector, sector_places[sector], sector_demand[sector])
        for sector in sorted(set(sector_places) | set(sector_demand))
    }
    per_placement = {
        p.id: OptionDemand(p.id, places[p.id], placement_demand[p.id]) for p in placements
    }
    return sectors, per_placement
