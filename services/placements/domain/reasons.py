"""Why a student whose preferences opened no option at all ended the round unplaced."""

from __future__ import annotations

from collections import Counter

import numpy as np

from services.placements.domain.eligibility import (
    PlacementCatalogue,
    age_on,
    distance_km,
    vetting_valid_for_week,
)
from services.placements.domain.model import Placement, Student, UnplacedReason
from services.placements.domain.spatial import chord_radius, points_of


def ineligibility_reason(student: Student, catalogue: PlacementCatalogue) -> UnplacedReason:
    """Name what ruled out most of the placements the student's preferences point at.

    Each placement is blamed on the first rule it fails, in the order a member of staff would
    check them by hand; ties go to the rule checked first. Only the placements of a preferred
    sector near enough to be in range are looked at one by one: every other one is either
    inaccessible or out of range, and is counted as such.
    """
    blamed: Counter[UnplacedReason] = Counter()
    sectors = sorted(
        {p.sector for p in student.preferences if p.sector and p.sector in catalogue.by_sector}
    )
    named = {
        p.placement_id: catalogue.by_id[p.placement_id]
        for p in student.preferences
        if p.placement_id in catalogue.by_id
    }
    centre = points_of([student.home])
    reach = chord_radius(np.array([student.travel_limit_km]))
    for sector in sectors:
        members = catalogue.by_sector[sector]
        _, close = catalogue.sector_index(sector).near(centre, reach)
        nearby = [members[k] for k in close.tolist()]
        for placement in nearby:
            blamed[_first_failed_rule(student, catalogue, placement)] += 1
        far = len(members) - len(nearby)
        inaccessible = catalogue.inaccessible_in(sector, student.access_needs) - sum(
            not student.access_needs <= p.access_features for p in nearby
        )
        blamed[UnplacedReason.INACCESSIBLE] += inaccessible
        blamed[UnplacedReason.OUT_OF_TRAVEL_RANGE] += far - inaccessible
    for placement in named.values():
        if placement.sector not in sectors:
            blamed[_first_failed_rule(student, catalogue, placement)] += 1
    blamed = +blamed
    if not blamed:
        return UnplacedReason.NO_MATCHING_PLACEMENT
    order = list(UnplacedReason)
    return min(blamed, key=lambda reason: (-blamed[reason], order.index(reason)))


def _first_failed_rule(
    student: Student, catalogue: PlacementCatalogue, placement: Placement
) -> UnplacedReason:
    if not student.access_needs <= placement.access_features:
        return UnplacedReason.INACCESSIBLE
    if distance_km(student.home, placement.location) > student.travel_limit_km:
        return UnplacedReason.OUT_OF_TRAVEL_RANGE
    weeks = [w for w in sorted(student.school_weeks) if placement.places_in(w) > 0]
    if not weeks:
        return UnplacedReason.WEEK_CLASH
    vetted = [w for w in weeks if vetting_valid_for_week(placement, w, catalogue.vetting_date)]
    if not vetted:
        return UnplacedReason.VETTING_EXPIRED
    if all(age_on(student.birth_date, w) < placement.minimum_age for w in vetted):
        return UnplacedReason.TOO_YOUNG
    return UnplacedReason.CAPACITY_EXHAUSTED
