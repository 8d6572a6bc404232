"""Which placements, in which weeks, a student may be matched to, and how much they want each.

A (student, placement, week) triple is open when all of these hold:

* the placement has places that week and the student's school releases students that week;
* the student is at least the placement's minimum age on the Monday of the week;
* the placement offers every accessibility feature the student needs;
* the placement is within the student's travel limit (great-circle distance from home);
* both vetting checks (health and safety, employers' liability insurance) are valid on every day
  of the week and on the day the round is run -- a lapsed check is never used;
* the placement satisfies one of the student's preferences. Its rank is the position (1-4) of the
  first preference it satisfies: a named preference matches that placement, a sector preference
  matches every placement in the sector.

``build_market`` evaluates these rules once per round and hands the matching engine integer
indexes, because a county has millions of candidate triples and the engine must finish in seconds.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from services.placements.domain.model import (
    GeoPoint,
    Placement,
    Student,
    UnplacedReason,
    Week,
)

EARTH_RADIUS_KM = 6371.0088
LAST_DAY_OF_WEEK = timedelta(days=4)
_CELL_DEGREES = 0.1
_KM_PER_DEGREE_LAT = 111.2

Seat = tuple[str, Week]
"""A placement in one week: the unit that capacity is counted in."""


def distance_km(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle (haversine) distance, good to well under 1% at county scale."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    half_dlat = (lat2 - lat1) / 2
    half_dlon = math.radians(b.lon - a.lon) / 2
    h = math.sin(half_dlat) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(half_dlon) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def age_on(birth_date: date, day: date) -> int:
    """Age in whole years, the way an employer's minimum age is checked."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def vetting_valid_for_week(placement: Placement, week: Week, vetting_date: date) -> bool:
    """Both checks must cover the whole week and must not already have lapsed."""
    needed_until = max(week + LAST_DAY_OF_WEEK, vetting_date)
    return (
        placement.health_and_safety_expiry >= needed_until
        and placement.insurance_expiry >= needed_until
    )


def preference_rank(student: Student, placement: Placement) -> int | None:
    """Position (1-based) of the student's first preference the placement satisfies."""
    for position, preference in enumerate(student.preferences, start=1):
        if preference.placement_id == placement.id or preference.sector == placement.sector:
            return position
    return None


def is_open(student: Student, placement: Placement, week: Week, vetting_date: date) -> bool:
    """Whether the student could be matched to the placement in that week (capacity aside)."""
    return (
        placement.places_in(week) > 0
        and week in student.school_weeks
        and age_on(student.birth_date, week) >= placement.minimum_age
        and student.access_needs <= placement.access_features
        and distance_km(student.home, placement.location) <= student.travel_limit_km
        and vetting_valid_for_week(placement, week, vetting_date)
        and preference_rank(student, placement) is not None
    )


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


@dataclass(frozen=True, slots=True)
class Market:
    """The open options of one round, as integer indexes for the matching engine.

    ``students`` and ``seats`` are sorted by id so that every run walks them in the same order.
    ``options[i][r - 1]`` lists the seats student ``i`` ranks ``r``, nearest first.
    """

    students: tuple[Student, ...]
    seats: tuple[Seat, ...]
    seat_capacity: tuple[int, ...]
    options: tuple[tuple[tuple[int, ...], ...], ...]

    def ranked_options(self, student_index: int) -> Iterable[tuple[int, int]]:
        """(rank, seat) pairs, best first."""
        for rank, seats in enumerate(self.options[student_index], start=1):
            for seat in seats:
                yield rank, seat

    def option_count(self) -> int:
        return sum(len(seats) for ranked in self.options for seats in ranked)


@dataclass(slots=True)
class _PlacementFacts:
    """What the inner loop needs about a placement, precomputed once per round."""

    placement: Placement
    lat: float
    lon: float
    cos_lat: float
    open_weeks: dict[Week, int]


class PlacementCatalogue:
    """Placements indexed by id, by sector and by map cell, for fast option lookup."""

    def __init__(self, placements: Sequence[Placement], vetting_date: date) -> None:
        self.vetting_date = vetting_date
        self.by_id = {p.id: p for p in placements}
        self.by_sector: defaultdict[str, list[Placement]] = defaultdict(list)
        for placement in sorted(placements, key=lambda p: p.id):
            self.by_sector[placement.sector].append(placement)
        self.seats: list[Seat] = sorted(
            (p.id, week) for p in placements for week, places in p.capacity.items() if places > 0
        )
        self.seat_index = {seat: i for i, seat in enumerate(self.seats)}
        self._facts: dict[str, _PlacementFacts] = {}
        self._cells: dict[str, dict[tuple[int, int], list[_PlacementFacts]]] = defaultdict(dict)
        for placement in sorted(placements, key=lambda p: p.id):
            facts = self._facts_for(placement)
            if facts.open_weeks:
                self._facts[placement.id] = facts
                cell = _cell_of(placement.location.lat, placement.location.lon)
                self._cells[placement.sector].setdefault(cell, []).append(facts)

    def _facts_for(self, placement: Placement) -> _PlacementFacts:
        open_weeks = {
            week: self.seat_index[(placement.id, week)]
            for week, places in sorted(placement.capacity.items())
            if places > 0 and vetting_valid_for_week(placement, week, self.vetting_date)
        }
        lat = math.radians(placement.location.lat)
        return _PlacementFacts(
            placement, lat, math.radians(placement.location.lon), math.cos(lat), open_weeks
        )

    def candidates(self, student: Student) -> dict[str, tuple[int, _PlacementFacts]]:
        """Open-vetted placements the student's preferences point at, within travel range."""
        found: dict[str, tuple[int, _PlacementFacts]] = {}
        for rank, preference in enumerate(student.preferences, start=1):
            if preference.placement_id is not None:
                facts = self._facts.get(preference.placement_id)
                pool: Iterable[_PlacementFacts] = () if facts is None else (facts,)
            else:
                pool = self._nearby(preference.sector or "", student)
            for facts in pool:
                found.setdefault(facts.placement.id, (rank, facts))
        return found

    def _nearby(self, sector: str, student: Student) -> Iterable[_PlacementFacts]:
        cells = self._cells.get(sector)
        if not cells:
            return
        home = student.home
        reach_lat = student.travel_limit_km / _KM_PER_DEGREE_LAT
        reach_lon = reach_lat / max(0.01, math.cos(math.radians(home.lat)))
        low = _cell_of(home.lat - reach_lat, home.lon - reach_lon)
        high = _cell_of(home.lat + reach_lat, home.lon + reach_lon)
        for row in range(low[0], high[0] + 1):
            for column in range(low[1], high[1] + 1):
                yield from cells.get((row, column), ())


def _cell_of(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / _CELL_DEGREES), math.floor(lon / _CELL_DEGREES)


def _haversine_term(limit_km: float) -> float:
    """The haversine 'h' value at ``limit_km``, so the loop can skip asin and sqrt."""
    return math.sin(min(math.pi / 2, limit_km / (2 * EARTH_RADIUS_KM))) ** 2


def student_options(catalogue: PlacementCatalogue, student: Student) -> tuple[tuple[int, ...], ...]:
    """Seats the student may take, grouped by rank and ordered nearest first within a rank."""
    lat = math.radians(student.home.lat)
    lon = math.radians(student.home.lon)
    cos_lat = math.cos(lat)
    limit = _haversine_term(student.travel_limit_km)
    needs = student.access_needs
    ages = {week: age_on(student.birth_date, week) for week in student.school_weeks}
    by_rank: list[list[tuple[float, int]]] = [[] for _ in student.preferences]
    sin = math.sin
    for rank, facts in catalogue.candidates(student).values():
        h = (
            sin((facts.lat - lat) / 2) ** 2
            + cos_lat * facts.cos_lat * sin((facts.lon - lon) / 2) ** 2
        )
        if h > limit or (needs and not needs <= facts.placement.access_features):
            continue
        minimum_age = facts.placement.minimum_age
        for week, seat in facts.open_weeks.items():
            age = ages.get(week)
            if age is not None and age >= minimum_age:
                by_rank[rank - 1].append((h, seat))
    return tuple(tuple(seat for _, seat in sorted(ranked)) for ranked in by_rank)


def build_market(
    students: Iterable[Student], placements: Sequence[Placement], vetting_date: date
) -> tuple[Market, PlacementCatalogue]:
    """Evaluate every eligibility rule once, for the whole round."""
    catalogue = PlacementCatalogue(placements, vetting_date)
    ordered = tuple(sorted(students, key=lambda s: s.id))
    options = tuple(student_options(catalogue, student) for student in ordered)
    capacity = tuple(catalogue.by_id[pid].places_in(week) for pid, week in catalogue.seats)
    return Market(ordered, tuple(catalogue.seats), capacity, options), catalogue


def ineligibility_reason(student: Student, catalogue: PlacementCatalogue) -> UnplacedReason:
    """Name what ruled out most of the placements the student's preferences point at.

    Each placement is blamed on the first rule it fails, in the order a member of staff would
    check them by hand; ties go to the rule checked first.
    """
    blamed = Counter(
        _first_failed_rule(student, catalogue, placement)
        for placement in _preferred_placements(student, catalogue)
    )
    if not blamed:
        return UnplacedReason.NO_MATCHING_PLACEMENT
    order = list(UnplacedReason)
    return min(blamed, key=lambda reason: (-blamed[reason], order.index(reason)))


def _preferred_placements(student: Student, catalogue: PlacementCatalogue) -> list[Placement]:
    found: dict[str, Placement] = {}
    for preference in student.preferences:
        if preference.placement_id in catalogue.by_id:
            found[preference.placement_id] = catalogue.by_id[preference.placement_id]
        for placement in catalogue.by_sector.get(preference.sector or "", ()):
            found[placement.id] = placement
    return [found[placement_id] for placement_id in sorted(found)]


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


def lottery_priority(students: Sequence[Student], seed: int) -> dict[str, int]:
    """Position of each student in the order placements serve them (0 is served first).

    Disadvantaged and SEN students come first; within each group, order is by lottery number.
    Lottery numbers are drawn in student-id order so the seed alone fixes them.
    """
    rng = random.Random(seed)
    lottery = {s.id: rng.random() for s in sorted(students, key=lambda s: s.id)}
    by_id = {s.id: s for s in students}
    ranked = sorted(lottery, key=lambda sid: (not by_id[sid].prioritised, lottery[sid], sid))
    return {sid: position for position, sid in enumerate(ranked)}
