"""The vocabulary of a work-experience allocation round.

Everything here is an immutable value: a matching run must never change its input, so the same
problem and seed can be replayed to explain any allocation to a school, a parent or an auditor.

A placement week is named by the date of its Monday (``Week``). A placement runs Monday to Friday.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType

Week = date
"""The Monday of a placement week."""

MAX_PREFERENCES = 4


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A position in decimal degrees (WGS84)."""

    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Preference:
    """One ranked choice: either one named placement or any placement in a sector.

    Students who know exactly where they want to go name a placement; students who only know the
    kind of work they want ("anything with animals") name a sector.
    """

    placement_id: str | None = None
    sector: str | None = None

    def __post_init__(self) -> None:
        if (self.placement_id is None) == (self.sector is None):
            raise ValueError("a preference names exactly one of a placement or a sector")

    @classmethod
    def for_placement(cls, placement_id: str) -> Preference:
        return cls(placement_id=placement_id)

    @classmethod
    def for_sector(cls, sector: str) -> Preference:
        return cls(sector=sector)


@dataclass(frozen=True, slots=True)
class Student:
    """A student taking part in the allocation round.

    ``school_weeks`` are the weeks the student's school releases its year group; a placement in any
    other week would take the student out of lessons. ``travel_limit_km`` is the straight-line
    distance the student can be expected to travel from home. ``clearing``: if none of their
    choices is possible, the student will take any suitable placement.
    """

    id: str
    school_id: str
    birth_date: date
    home: GeoPoint
    travel_limit_km: float
    preferences: tuple[Preference, ...]
    school_weeks: frozenset[Week]
    disadvantaged: bool = False
    sen: bool = False
    access_needs: frozenset[str] = frozenset()
    clearing: bool = False

    def __post_init__(self) -> None:
        if len(self.preferences) > MAX_PREFERENCES:
            raise ValueError(f"student {self.id} has more than {MAX_PREFERENCES} preferences")

    @property
    def prioritised(self) -> bool:
        """Disadvantaged and SEN students are offered good placements first."""
        return self.disadvantaged or self.sen


@dataclass(frozen=True, slots=True)
class Placement:
    """A placement offered by an employer, with its places per week and its vetting status.

    ``capacity`` maps each week to the number of students the employer can take that week.
    Both vetting dates are the last day on which the check is valid.
    """

    id: str
    employer_id: str
    sector: str
    location: GeoPoint
    capacity: Mapping[Week, int]
    minimum_age: int
    access_features: frozenset[str]
    health_and_safety_expiry: date
    insurance_expiry: date

    def __post_init__(self) -> None:
        if any(places < 0 for places in self.capacity.values()):
            raise ValueError(f"placement {self.id} has a negative capacity")
        object.__setattr__(self, "capacity", MappingProxyType(dict(self.capacity)))

    def places_in(self, week: Week) -> int:
        return self.capacity.get(week, 0)


@dataclass(frozen=True, slots=True)
class Pin:
    """An allocation fixed by EBP staff before matching (e.g. an approved self-found placement)."""

    student_id: str
    placement_id: str
    week: Week


@dataclass(frozen=True, slots=True)
class MatchingProblem:
    """Everything an allocation round depends on, apart from the lottery seed.

    ``vetting_date`` is the day the round is run: a check that has already lapsed by then, or that
    lapses before the end of a placement week, rules the placement out for that week.
    """

    students: tuple[Student, ...]
    placements: tuple[Placement, ...]
    pins: tuple[Pin, ...] = ()
    vetting_date: date = field(default_factory=date.today)


class UnplacedReason(StrEnum):
    """Why a student ended the round without a placement.

    The first group means no option was ever open to the student, named after what ruled out most
    of the placements their preferences pointed at; the last two mean options existed but were
    taken.
    """

    NO_MATCHING_PLACEMENT = "no_matching_placement"
    TOO_YOUNG = "too_young"
    INACCESSIBLE = "inaccessible"
    OUT_OF_TRAVEL_RANGE = "out_of_travel_range"
    WEEK_CLASH = "week_clash"
    VETTING_EXPIRED = "vetting_expired"
    CAPACITY_EXHAUSTED = "capacity_exhausted"
    SCHOOL_QUOTA_REACHED = "school_quota_reached"


@dataclass(frozen=True, slots=True)
class Assignment:
    """One student placed in one placement for one week.

    ``rank`` is the position (1-4) of the student's first preference that the placement satisfies;
    it is ``None`` for a pin outside the student's preferences and for a place given through
    clearing (``cleared``), which is never ranked.
    """

    student_id: str
    placement_id: str
    week: Week
    rank: int | None
    pinned: bool = False
    cleared: bool = False


@dataclass(frozen=True, slots=True)
class Unplaced:
    student_id: str
    reason: UnplacedReason


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The outcome of an allocation round.

    ``school_quotas`` is the most students each school could have placed under the fair share
    worked out for this round; stability is judged within these quotas.
    """

    assignments: tuple[Assignment, ...]
    unplaced: tuple[Unplaced, ...]
    school_quotas: Mapping[str, int]
    seed: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "school_quotas", MappingProxyType(dict(self.school_quotas)))

    def assignments_by_student(self) -> dict[str, Assignment]:
        return {a.student_id: a for a in self.assignments}
