"""A reproducible synthetic county for benchmarking the placements matching engine.

Deliberately uneven, because uniform data flatters every algorithm:

* schools and employers cluster around eight towns of different sizes in a 60 x 40 km county, with
  a minority of rural schools and employers in between;
* most schools release one week, some two, and many share the same popular week;
* students want health, animals and IT far more than the county offers, and retail and hospitality
  offer far more than students want;
* some placements have lapsed or soon-lapsing vetting, some need the student to be 15, some are
  step-free or have a quiet room, and a few students need those;
* rural students have longer travel limits than town students but still cannot cross the county;
* about half the students tick "any suitable placement" (drawn from a lottery of its own, so the
  rest of the county does not depend on it).

``build_region`` lays several such counties side by side (each drawn afresh, sharing borders that
students near them can travel across), the way a partnership covering several counties or a city
region has more students over more ground rather than more students on the same ground.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from datetime import date, timedelta

from services.placements.domain.model import (
    GeoPoint,
    MatchingProblem,
    Placement,
    Preference,
    Student,
    Week,
)

ORIGIN = GeoPoint(51.05, 0.30)
COUNTY_KM = (60.0, 40.0)
KM_PER_DEGREE_LAT = 111.2
KM_PER_DEGREE_LON = 111.32 * math.cos(math.radians(ORIGIN.lat))
VETTING_DATE = date(2026, 5, 1)
FIRST_WEEK = date(2026, 6, 15)

# (x km, y km, relative size) of the towns.
TOWNS = [
    (12.0, 30.0, 3.0),
    (45.0, 28.0, 2.2),
    (30.0, 12.0, 1.8),
    (52.0, 8.0, 1.2),
    (8.0, 8.0, 1.0),
    (28.0, 34.0, 0.9),
    (38.0, 22.0, 0.8),
    (20.0, 20.0, 0.7),
]

# sector: (share of places offered, share of student demand)
SECTORS = {
    "health": (0.06, 0.16),
    "animals": (0.03, 0.10),
    "it": (0.05, 0.10),
    "education": (0.10, 0.09),
    "sport": (0.05, 0.08),
    "media": (0.03, 0.07),
    "law": (0.04, 0.06),
    "engineering": (0.06, 0.06),
    "public_services": (0.05, 0.05),
    "finance": (0.05, 0.04),
    "hair_and_beauty": (0.06, 0.04),
    "construction": (0.08, 0.04),
    "automotive": (0.05, 0.04),
    "science": (0.03, 0.03),
    "retail": (0.16, 0.02),
    "hospitality": (0.10, 0.02),
}
SECTORS_AGED_15 = {"construction", "engineering", "automotive"}


@dataclass(frozen=True, slots=True)
class CountySpec:
    schools: int = 100
    students: int = 15_000
    employers: int = 3_000
    places: int = 12_000
    weeks: int = 6
    seed: int = 2026
    clearing_share: float = 0.5

    def scaled(self, fraction: float) -> CountySpec:
        """A smaller county with the same proportions."""
        return CountySpec(
            schools=max(2, round(self.schools * fraction)),
            students=max(20, round(self.students * fraction)),
            employers=max(5, round(self.employers * fraction)),
            places=max(16, round(self.places * fraction)),
            weeks=self.weeks,
            seed=self.seed,
            clearing_share=self.clearing_share,
        )


@dataclass(frozen=True, slots=True)
class _Tile:
    """One county of a region: where it lies (km from the origin) and its ids' prefix."""

    prefix: str = ""
    x0: float = 0.0
    y0: float = 0.0


def build_county(spec: CountySpec) -> MatchingProblem:
    return build_region(spec, 1)


def build_region(spec: CountySpec, counties: int) -> MatchingProblem:
    """``counties`` counties like ``spec`` on a grid; one county is exactly ``build_county``."""
    weeks = [FIRST_WEEK + timedelta(weeks=i) for i in range(spec.weeks)]
    columns = math.ceil(math.sqrt(counties))
    students: list[Student] = []
    placements: list[Placement] = []
    for t in range(counties):
        rng = random.Random(spec.seed if t == 0 else f"{spec.seed}-{t}")
        row, column = divmod(t, columns)
        tile = _Tile(f"C{t}-" if t else "", column * COUNTY_KM[0], row * COUNTY_KM[1])
        offered = _placements(rng, spec, weeks, tile)
        students += _students(rng, spec, weeks, offered, tile)
        placements += offered
    ticks = random.Random(f"{spec.seed}-clearing")
    students = [replace(s, clearing=ticks.random() < spec.clearing_share) for s in students]
    return MatchingProblem(tuple(students), tuple(placements), (), VETTING_DATE)


def _point(x_km: float, y_km: float, tile: _Tile) -> GeoPoint:
    x = tile.x0 + min(COUNTY_KM[0], max(0.0, x_km))
    y = tile.y0 + min(COUNTY_KM[1], max(0.0, y_km))
    return GeoPoint(ORIGIN.lat + y / KM_PER_DEGREE_LAT, ORIGIN.lon + x / KM_PER_DEGREE_LON)


def _xy(point: GeoPoint) -> tuple[float, float]:
    return (
        (point.lon - ORIGIN.lon) * KM_PER_DEGREE_LON,
        (point.lat - ORIGIN.lat) * KM_PER_DEGREE_LAT,
    )


def _settlement(rng: random.Random, rural_share: float, spread_km: float) -> tuple[float, float]:
    if rng.random() < rural_share:
        return rng.uniform(0, 60), rng.uniform(0, 40)
    x, y, _ = rng.choices(TOWNS, weights=[t[2] for t in TOWNS])[0]
    return rng.gauss(x, spread_km), rng.gauss(y, spread_km)


def _placements(
    rng: random.Random, spec: CountySpec, weeks: list[Week], tile: _Tile
) -> list[Placement]:
    sectors = list(SECTORS)
    supply = [SECTORS[s][0] for s in sectors]
    offers: list[tuple[str, str, GeoPoint, list[Week]]] = []
    for e in range(spec.employers):
        x, y = _settlement(rng, rural_share=0.15, spread_km=3.0)
        for _ in range(2 if rng.random() < 0.15 else 1):
            offered = sorted(rng.sample(weeks, rng.randint(min(2, len(weeks)), len(weeks))))
            offers.append(
                (
                    f"{tile.prefix}E{e:05d}",
                    rng.choices(sectors, supply)[0],
                    _point(x, y, tile),
                    offered,
                )
            )
    slots = [(i, week) for i, offer in enumerate(offers) for week in offer[3]]
    places: dict[tuple[int, Week], int] = dict.fromkeys(slots, 0)
    for _ in range(spec.places):
        places[rng.choice(slots)] += 1
    return [
        _placement(rng, f"{tile.prefix}P{i:05d}", offer, {w: places[(i, w)] for w in offer[3]})
        for i, offer in enumerate(offers)
    ]


def _placement(
    rng: random.Random,
    placement_id: str,
    offer: tuple[str, str, GeoPoint, list[Week]],
    capacity: dict[Week, int],
) -> Placement:
    employer_id, sector, location, _ = offer
    features = {
        f for f, share in (("wheelchair", 0.4), ("quiet_room", 0.2)) if rng.random() < share
    }
    roll = rng.random()
    if roll < 0.04:
        health_and_safety = VETTING_DATE - timedelta(days=rng.randint(1, 200))
    elif roll < 0.07:
        health_and_safety = FIRST_WEEK + timedelta(days=rng.randint(5, 30))
    else:
        health_and_safety = VETTING_DATE + timedelta(days=rng.randint(90, 700))
    insurance = (
        VETTING_DATE - timedelta(days=10)
        if rng.random() < 0.01
        else VETTING_DATE + timedelta(days=rng.randint(60, 400))
    )
    minimum_age = 15 if sector in SECTORS_AGED_15 and rng.random() < 0.6 else 14
    return Placement(
        placement_id,
        employer_id,
        sector,
        location,
        capacity,
        minimum_age,
        frozenset(features),
        health_and_safety,
        insurance,
    )


def _school_sizes(rng: random.Random, spec: CountySpec) -> list[int]:
    raw = [rng.triangular(100, 250, 110) for _ in range(spec.schools)]
    scale = spec.students / sum(raw)
    sizes = [max(1, round(r * scale)) for r in raw]
    sizes[-1] += spec.students - sum(sizes)
    return sizes


def _students(
    rng: random.Random,
    spec: CountySpec,
    weeks: list[Week],
    placements: list[Placement],
    tile: _Tile,
) -> list[Student]:
    popular_week = weeks[len(weeks) // 2]
    students: list[Student] = []
    for k, size in enumerate(_school_sizes(rng, spec)):
        rural = rng.random() < 0.2
        x, y = _settlement(rng, rural_share=1.0 if rural else 0.0, spread_km=2.5)
        school_weeks = {popular_week if rng.random() < 0.4 else rng.choice(weeks)}
        if rng.random() < 0.3:
            school_weeks.add(rng.choice(weeks))
        catalogue = _nearby_listing(placements, x + tile.x0, y + tile.y0, school_weeks, 15.0)
        for n in range(size):
            students.append(
                _student(
                    rng,
                    (f"{tile.prefix}S{k:03d}-{n:04d}", f"{tile.prefix}K{k:03d}"),
                    (x, y),
                    tile,
                    rural,
                    school_weeks,
                    catalogue,
                )
            )
    return students


def _nearby_listing(
    placements: list[Placement], x: float, y: float, weeks: set[Week], reach_km: float
) -> tuple[list[Placement], list[float]]:
    """What a school's students see when browsing: nearby placements offered in their weeks.

    Students pick popular sectors far more often than the places on offer would suggest.
    """
    listing, weights = [], []
    for p in placements:
        if not any(p.places_in(w) for w in weeks):
            continue
        px, py = _xy(p.location)
        if math.hypot(px - x, py - y) <= reach_km:
            listing.append(p)
            weights.append(SECTORS[p.sector][1] / SECTORS[p.sector][0])
    return listing, weights


def _student(
    rng: random.Random,
    ids: tuple[str, str],
    school_xy: tuple[float, float],
    tile: _Tile,
    rural: bool,
    school_weeks: set[Week],
    listing: tuple[list[Placement], list[float]],
) -> Student:
    spread = 6.0 if rural else 2.5
    home = _point(rng.gauss(school_xy[0], spread), rng.gauss(school_xy[1], spread), tile)
    sen = rng.random() < 0.12
    limit = rng.choice((12.0, 15.0, 20.0) if rural else (6.0, 8.0, 10.0, 12.0))
    if sen:
        limit = min(limit, 8.0)
    needs = set()
    if rng.random() < 0.02:
        needs.add("wheelchair")
    if sen and rng.random() < 0.25:
        needs.add("quiet_room")
    birth = date(2010, 9, 1) + timedelta(days=rng.randrange(365))
    student_id, school_id = ids
    return Student(
        id=student_id,
        school_id=school_id,
        birth_date=birth,
        home=home,
        travel_limit_km=limit,
        preferences=_preferences(rng, listing),
        school_weeks=frozenset(school_weeks),
        disadvantaged=rng.random() < 0.2,
        sen=sen,
        access_needs=frozenset(needs),
    )


def _preferences(
    rng: random.Random, listing: tuple[list[Placement], list[float]]
) -> tuple[Preference, ...]:
    sectors = list(SECTORS)
    demand = [SECTORS[s][1] for s in sectors]
    chosen: list[Preference] = []
    for _ in range(rng.choice((2, 3, 4, 4, 4, 4))):
        if rng.random() < 0.3 or not listing[0]:
            preference = Preference.for_sector(rng.choices(sectors, demand)[0])
        else:
            preference = Preference.for_placement(rng.choices(listing[0], listing[1])[0].id)
        if preference not in chosen:
            chosen.append(preference)
    return tuple(chosen)
