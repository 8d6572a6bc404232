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
Distances are only measured for the pairs a spatial index (``spatial``) finds within a student's
travel limit, per sector, so the work grows with the options students actually have.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from services.placements.domain.model import (
    MAX_PREFERENCES,
    GeoPoint,
    Placement,
    Student,
    Week,
)
from services.placements.domain.spatial import (
    EARTH_RADIUS_KM,
    PointIndex,
    chord_radius,
    points_of,
    unit_vectors,
)

LAST_DAY_OF_WEEK = timedelta(days=4)

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


IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class Market:
    """The open options of one round, as integer indexes for the matching engine.

    ``students`` and ``seats`` are sorted by id so that every run walks them in the same order.
    ``options[i][r - 1]`` lists the seats student ``i`` ranks ``r``, nearest first.

    The same options are also held as three parallel arrays, sorted by student, then rank, then
    distance (``option_student``, ``option_rank``, ``option_seat``), so that flow networks and
    other whole-round computations can be built with array operations.
    """

    students: tuple[Student, ...]
    seats: tuple[Seat, ...]
    seat_capacity: tuple[int, ...]
    options: tuple[tuple[tuple[int, ...], ...], ...]
    option_student: IntArray
    option_rank: IntArray
    option_seat: IntArray

    def ranked_options(self, student_index: int) -> Iterable[tuple[int, int]]:
        """(rank, seat) pairs, best first."""
        for rank, seats in enumerate(self.options[student_index], start=1):
            for seat in seats:
                yield rank, seat


class PlacementCatalogue:
    """Placements indexed by id, by sector and, as arrays, by everything the eligibility rules use.

    Only placements with at least one open week (places and valid vetting) take part in the
    arrays; ``week_seat[p, w]`` is the seat of array placement ``p`` in week ``weeks[w]``, or -1.
    """

    def __init__(self, placements: Sequence[Placement], vetting_date: date) -> None:
        self.vetting_date = vetting_date
        self.by_id = {p.id: p for p in placements}
        ordered = sorted(self.by_id.values(), key=lambda p: p.id)
        self.by_sector: defaultdict[str, list[Placement]] = defaultdict(list)
        for placement in ordered:
            self.by_sector[placement.sector].append(placement)
        self.seats: list[Seat] = sorted(
            (p.id, week) for p in ordered for week, places in p.capacity.items() if places > 0
        )
        self.seat_index = {seat: i for i, seat in enumerate(self.seats)}
        self.weeks: list[Week] = sorted({week for _, week in self.seats})
        week_column = {week: w for w, week in enumerate(self.weeks)}
        open_rows: list[list[int]] = []
        self.open_placements: list[Placement] = []
        for placement in ordered:
            row = [-1] * len(self.weeks)
            for week, places in placement.capacity.items():
                if places > 0 and vetting_valid_for_week(placement, week, vetting_date):
                    row[week_column[week]] = self.seat_index[(placement.id, week)]
            if any(seat >= 0 for seat in row):
                open_rows.append(row)
                self.open_placements.append(placement)
        count = len(self.open_placements)
        self.week_seat: IntArray = np.array(open_rows, dtype=np.int64).reshape(
            count, len(self.weeks)
        )
        self.array_index = {p.id: k for k, p in enumerate(self.open_placements)}
        self.lat: FloatArray = np.radians([p.location.lat for p in self.open_placements])
        self.lon: FloatArray = np.radians([p.location.lon for p in self.open_placements])
        self.cos_lat: FloatArray = np.cos(self.lat)
        self.minimum_age: IntArray = np.array(
            [p.minimum_age for p in self.open_placements], dtype=np.int64
        )
        sector_members: defaultdict[str, list[int]] = defaultdict(list)
        for k, placement in enumerate(self.open_placements):
            sector_members[placement.sector].append(k)
        self.sector_members: dict[str, IntArray] = {
            sector: np.array(members, dtype=np.int64) for sector, members in sector_members.items()
        }
        self.unit: FloatArray = unit_vectors(self.lat, self.lon).reshape(count, 3)
        self.open_index = {
            sector: PointIndex(self.unit[members])
            for sector, members in self.sector_members.items()
        }
        self._sector_index: dict[str, PointIndex] = {}
        self._inaccessible: dict[tuple[str, frozenset[str]], int] = {}

    def sector_index(self, sector: str) -> PointIndex:
        """Every placement of the sector (open or not), in ``by_sector`` order."""
        if sector not in self._sector_index:
            members = self.by_sector.get(sector, [])
            self._sector_index[sector] = PointIndex(points_of([p.location for p in members]))
        return self._sector_index[sector]

    def inaccessible_in(self, sector: str, needs: frozenset[str]) -> int:
        """How many of the sector's placements lack one of ``needs``."""
        key = (sector, needs)
        if key not in self._inaccessible:
            members = self.by_sector.get(sector, [])
            self._inaccessible[key] = sum(not needs <= p.access_features for p in members)
        return self._inaccessible[key]


def _haversine_term(limit_km: float) -> float:
    """The haversine 'h' value at ``limit_km``, so distances can be compared without asin."""
    return math.sin(min(math.pi / 2, limit_km / (2 * EARTH_RADIUS_KM))) ** 2


@dataclass(slots=True)
class _StudentArrays:
    """What the eligibility rules need about each student, one array entry per student."""

    lat: FloatArray
    lon: FloatArray
    cos_lat: FloatArray
    limit: FloatArray
    unit: FloatArray
    reach: FloatArray
    """Home on the unit sphere, and the chord radius of the travel limit."""
    age: IntArray
    """``age[i, w]`` on the Monday of catalogue week ``w``, or -1 when the school is not out."""

    @classmethod
    def of(cls, students: Sequence[Student], weeks: Sequence[Week]) -> _StudentArrays:
        lat = np.radians([s.home.lat for s in students]).astype(np.float64)
        birth_year = np.array([s.birth_date.year for s in students], dtype=np.int64)
        birth_day = np.array(
            [s.birth_date.month * 100 + s.birth_date.day for s in students], dtype=np.int64
        )
        age = np.full((len(students), len(weeks)), -1, dtype=np.int64)
        for w, week in enumerate(weeks):
            released = np.array([week in s.school_weeks for s in students], dtype=bool)
            before_birthday = (week.month * 100 + week.day) < birth_day
            whole_years = week.year - birth_year - before_birthday.astype(np.int64)
            age[:, w] = np.where(released, whole_years, -1)
        lon = np.radians([s.home.lon for s in students]).astype(np.float64)
        limit_km = np.array([s.travel_limit_km for s in students], dtype=np.float64)
        return cls(
            lat=lat,
            lon=lon,
            cos_lat=np.cos(lat),
            limit=np.array([_haversine_term(s.travel_limit_km) for s in students]),
            unit=unit_vectors(lat, lon).reshape(len(students), 3),
            reach=chord_radius(limit_km),
            age=age,
        )


def _haversine(
    people: _StudentArrays, student: IntArray, catalogue: PlacementCatalogue, placement: IntArray
) -> FloatArray:
    half_dlat = np.sin((catalogue.lat[placement] - people.lat[student]) / 2)
    half_dlon = np.sin((catalogue.lon[placement] - people.lon[student]) / 2)
    result: FloatArray = half_dlat**2 + (
        people.cos_lat[student] * catalogue.cos_lat[placement] * half_dlon**2
    )
    return result


def _preferred_pairs(
    students: Sequence[Student], catalogue: PlacementCatalogue, people: _StudentArrays
) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    """(student, array placement, rank, h) for every preferred placement within travel range.

    A placement satisfying several preferences appears once per preference; the caller keeps the
    best rank.
    """
    named: tuple[list[int], list[int], list[int]] = ([], [], [])
    by_sector: defaultdict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for i, student in enumerate(students):
        for rank, preference in enumerate(student.preferences, start=1):
            if preference.placement_id is not None:
                k = catalogue.array_index.get(preference.placement_id)
                if k is not None:
                    named[0].append(i)
                    named[1].append(k)
                    named[2].append(rank)
            elif preference.sector in catalogue.sector_members:
                listed, ranks = by_sector[preference.sector]
                listed.append(i)
                ranks.append(rank)
    parts: list[tuple[IntArray, IntArray, IntArray, FloatArray]] = []
    if named[0]:
        who_named = np.array(named[0], dtype=np.int64)
        where = np.array(named[1], dtype=np.int64)
        h = _haversine(people, who_named, catalogue, where)
        near = h <= people.limit[who_named]
        parts.append(
            (who_named[near], where[near], np.array(named[2], dtype=np.int64)[near], h[near])
        )
    for sector in sorted(by_sector):
        listed, ranks = by_sector[sector]
        who = np.array(listed, dtype=np.int64)
        row, column = catalogue.open_index[sector].near(people.unit[who], people.reach[who])
        who_near, where = who[row], catalogue.sector_members[sector][column]
        h = _haversine(people, who_near, catalogue, where)
        near = h <= people.limit[who_near]
        rank_of = np.array(ranks, dtype=np.int64)[row]
        parts.append((who_near[near], where[near], rank_of[near], h[near]))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(0, dtype=np.float64)
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]).astype(np.int64),
        np.concatenate([p[3] for p in parts]),
    )


def _open_options(
    students: Sequence[Student], catalogue: PlacementCatalogue
) -> tuple[IntArray, IntArray, IntArray]:
    """(student, rank, seat) of every open option, sorted by student, rank, distance and seat."""
    people = _StudentArrays.of(students, catalogue.weeks)
    student, placement, rank, h = _preferred_pairs(students, catalogue, people)
    # Keep each (student, placement) once, at the best rank it is preferred at.
    pair = student * max(1, len(catalogue.open_placements)) + placement
    order = np.argsort(pair * (MAX_PREFERENCES + 1) + rank, kind="stable")
    pair = pair[order]
    first = np.ones(len(pair), dtype=bool)
    first[1:] = pair[1:] != pair[:-1]
    order = order[first]
    student, placement, rank, h = student[order], placement[order], rank[order], h[order]
    keep = accessible(students, catalogue)(student, placement)
    student, placement, rank, h = student[keep], placement[keep], rank[keep], h[keep]
    minimum_age = catalogue.minimum_age[placement]
    rows, seats = [], []
    for w in range(len(catalogue.weeks)):
        seat = catalogue.week_seat[placement, w]
        row = np.flatnonzero((seat >= 0) & (people.age[student, w] >= minimum_age))
        rows.append(row)
        seats.append(seat[row])
    row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    seat = np.concatenate(seats) if seats else np.zeros(0, dtype=np.int64)
    student, rank, h = student[row], rank[row], h[row]
    order = np.lexsort((seat, h, student * (MAX_PREFERENCES + 1) + rank))
    return student[order], rank[order], seat[order]


def accessible(
    students: Sequence[Student], catalogue: PlacementCatalogue
) -> Callable[[IntArray, IntArray], npt.NDArray[np.bool_]]:
    """A test of (student, array placement) pairs: does the placement offer all they need?

    Students share a few sets of needs, so each set is checked once against every placement.
    """
    kinds = sorted({s.access_needs for s in students}, key=sorted)
    number = {needs: k for k, needs in enumerate(kinds)}
    kind = np.array([number[s.access_needs] for s in students], dtype=np.int64)
    table = np.array(
        [[needs <= p.access_features for p in catalogue.open_placements] for needs in kinds],
        dtype=bool,
    ).reshape(len(kinds), len(catalogue.open_placements))

    def test(student: IntArray, placement: IntArray) -> npt.NDArray[np.bool_]:
        result: npt.NDArray[np.bool_] = table[kind[student], placement]
        return result

    return test


def build_market(
    students: Iterable[Student], placements: Sequence[Placement], vetting_date: date
) -> tuple[Market, PlacementCatalogue]:
    """Evaluate every eligibility rule once, for the whole round, with array operations."""
    catalogue = PlacementCatalogue(placements, vetting_date)
    ordered = tuple(sorted(students, key=lambda s: s.id))
    student, rank, seat = _open_options(ordered, catalogue)
    slots = np.zeros(len(ordered) + 1, dtype=np.int64)
    slots[1:] = np.cumsum([len(s.preferences) for s in ordered])
    bounds = np.searchsorted(slots[student] + rank - 1, np.arange(slots[-1] + 1)).tolist()
    seat_list = seat.tolist()
    starts = slots.tolist()
    options = tuple(
        tuple(
            tuple(seat_list[bounds[slot] : bounds[slot + 1]])
            for slot in range(starts[i], starts[i + 1])
        )
        for i in range(len(ordered))
    )
    capacity = tuple(catalogue.by_id[pid].places_in(week) for pid, week in catalogue.seats)
    market = Market(ordered, tuple(catalogue.seats), capacity, options, student, rank, seat)
    return market, catalogue


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
