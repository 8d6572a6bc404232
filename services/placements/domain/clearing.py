"""Clearing: any suitable placement for a student none of whose choices could be met.

A student may tick "if none of my choices is possible, any suitable placement". Once the round has
placed everyone it can within preferences, clearing offers such students the places still free
that they could take: vetted for the week, in a week their school releases them, old enough,
accessible, within their travel limit -- every rule but the preference. Clearing never moves a
student already placed; among the students it can place it lifts the worst-off school's rate
first (the same min-cost flow as the school shares, counting each school's students already
placed) and then serves priority students first within each school (``matching``).

``feasible_bound`` is the most students any allocation could place if every suitable placement
counted, not only preferred ones: the measure of how much clearing could still add.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import max_flow

from services.placements.domain.eligibility import (
    FloatArray,
    IntArray,
    Market,
    PlacementCatalogue,
    _haversine,
    _StudentArrays,
    accessible,
    build_market,
)
from services.placements.domain.fairness import OpenRound, open_round
from services.placements.domain.model import MatchingProblem, Student
from services.placements.domain.spatial import PointIndex

CLEARING_RANK = 1
"""Every clearing option ranks the same: none of them is one the student asked for."""


def suitable_seats(
    students: Sequence[Student], who: Sequence[int], catalogue: PlacementCatalogue, room: IntArray
) -> tuple[IntArray, IntArray]:
    """(student, seat) for each seat with ``room`` that student ``who[k]`` could take.

    Preferences are ignored; every other eligibility rule holds. Week by week, only students
    released that week are looked for near the placements with room that week. Sorted by
    student, then nearest first, then seat.
    """
    chosen = np.unique(np.asarray(who, dtype=np.int64))
    people = _StudentArrays.of([students[i] for i in chosen.tolist()], catalogue.weeks)
    fits_needs = accessible([students[i] for i in chosen.tolist()], catalogue)
    parts: list[tuple[IntArray, FloatArray, IntArray]] = []
    for w in range(len(catalogue.weeks)):
        seats = catalogue.week_seat[:, w]
        usable = np.flatnonzero((seats >= 0) & (room[np.maximum(seats, 0)] > 0))
        released = np.flatnonzero(people.age[:, w] >= 0)
        row, column = PointIndex(catalogue.unit[usable]).near(
            people.unit[released], people.reach[released]
        )
        row, where = released[row], usable[column]
        h = _haversine(people, row, catalogue, where)
        fits = (h <= people.limit[row]) & (people.age[row, w] >= catalogue.minimum_age[where])
        fits &= fits_needs(row, where)
        parts.append((row[fits], h[fits], seats[where[fits]]))
    student = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
    h = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.float64)
    seat = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, np.int64)
    order = np.lexsort((seat, h, student))
    return chosen[student[order]], seat[order]


def clearing_round(
    round_: OpenRound,
    catalogue: PlacementCatalogue,
    waiting: Sequence[int],
    free: Sequence[int],
    placed: Mapping[str, int],
) -> OpenRound:
    """The round clearing works in: ``waiting`` students, the ``free`` places, one rank for all.

    ``placed`` counts each school's students already placed, so shares start from there.
    """
    market = round_.market
    room = np.asarray(free, dtype=np.int64)
    student, seat = suitable_seats(market.students, waiting, catalogue, room)
    bounds = np.searchsorted(student, np.arange(len(market.students) + 1)).tolist()
    seats = seat.tolist()
    options = tuple(
        (tuple(seats[bounds[i] : bounds[i + 1]]),) if bounds[i] < bounds[i + 1] else ()
        for i in range(len(market.students))
    )
    ranks = np.full(len(student), CLEARING_RANK, dtype=np.int64)
    cleared_market = Market(
        market.students, market.seats, tuple(free), options, student, ranks, seat
    )
    return OpenRound(cleared_market, list(free), list(waiting), round_.school_sizes, placed)


@dataclass(frozen=True, slots=True)
class FeasibleBound:
    """Most students placeable over every suitable placement: overall and per school.

    A school's figure is what it could place if it had every place to itself.
    """

    overall: int
    by_school: Mapping[str, int]


def feasible_bound(problem: MatchingProblem) -> FeasibleBound:
    """The max-flow bound over all feasible pairs, pins counted as placed."""
    market, catalogue = build_market(problem.students, problem.placements, problem.vetting_date)
    round_ = open_round(problem, market)
    capacity = np.maximum(0, np.asarray(round_.capacity, dtype=np.int64))
    student, seat = suitable_seats(market.students, round_.pool, catalogue, capacity)
    overall = sum(round_.already_placed.values()) + _max_flow(student, seat, capacity)
    school_code = {school: k for k, school in enumerate(sorted(round_.school_sizes))}
    school = np.array([school_code[s.school_id] for s in market.students], dtype=np.int64)
    order = np.argsort(school[student], kind="stable")
    student, seat = student[order], seat[order]
    bounds = np.searchsorted(school[student], np.arange(len(school_code) + 1))
    by_school: Counter[str] = Counter(round_.already_placed)
    for name, k in school_code.items():
        part = slice(bounds[k], bounds[k + 1])
        by_school[name] += _max_flow(student[part], seat[part], capacity)
    return FeasibleBound(overall, {s: by_school[s] for s in school_code})


def _max_flow(student: IntArray, seat: IntArray, capacity: IntArray) -> int:
    """Most students placed with one place each, given (student, seat) options."""
    if not len(student):
        return 0
    people, person = np.unique(student, return_inverse=True)
    seats, place = np.unique(seat, return_inverse=True)
    source, sink, first_person = 0, 1, 2
    first_seat = first_person + len(people)
    solver = max_flow.SimpleMaxFlow()
    solver.add_arcs_with_capacity(
        np.concatenate(
            [
                np.zeros(len(people), dtype=np.int64),
                first_person + person,
                first_seat + np.arange(len(seats)),
            ]
        ),
        np.concatenate(
            [
                first_person + np.arange(len(people)),
                first_seat + place,
                np.full(len(seats), sink, dtype=np.int64),
            ]
        ),
        np.concatenate([np.ones(len(people) + len(student), dtype=np.int64), capacity[seats]]),
    )
    if solver.solve(source, sink) != solver.OPTIMAL:
        raise RuntimeError("maximum flow solver failed")
    return int(solver.optimal_flow())
