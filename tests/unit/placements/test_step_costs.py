"""What the round's steps cost grows with the options students have, not with the region.

A region has many schools and many seats, but each student can reach only a few of them, so
no step may hold a table of every school against every seat.
"""

from __future__ import annotations

import tracemalloc
from datetime import date

import numpy as np
import pytest

from services.placements.domain.eligibility import build_market
from services.placements.domain.fairness import open_round
from services.placements.domain.matching import best_places
from services.placements.domain.model import (
    GeoPoint,
    MatchingProblem,
    Placement,
    Preference,
    Student,
)

pytestmark = pytest.mark.unit

WEEK = date(2026, 6, 15)
SCHOOLS = 2_000
HERE = GeoPoint(51.2, 0.5)


def _one_option_each(schools: int) -> MatchingProblem:
    """Student ``k`` of school ``k`` names placement ``k`` and can reach nothing else."""
    students = tuple(
        Student(
            f"S{k:05d}",
            f"school-{k:05d}",
            birth_date=date(2010, 10, 1),
            home=HERE,
            travel_limit_km=10.0,
            preferences=(Preference.for_placement(f"P{k:05d}"),),
            school_weeks=frozenset({WEEK}),
        )
        for k in range(schools)
    )
    placements = tuple(
        Placement(
            f"P{k:05d}",
            employer_id=f"E{k:05d}",
            sector="health",
            location=HERE,
            capacity={WEEK: 1},
            minimum_age=14,
            access_features=frozenset(),
            health_and_safety_expiry=date(2027, 1, 1),
            insurance_expiry=date(2027, 1, 1),
        )
        for k in range(schools)
    )
    return MatchingProblem(students, placements, (), date(2026, 5, 1))


def test_best_places_needs_memory_for_the_options_not_for_every_school_and_seat() -> None:
    problem = _one_option_each(SCHOOLS)
    market, _ = build_market(problem.students, problem.placements, problem.vetting_date)
    round_ = open_round(problem, market)
    assert len(market.option_student) == SCHOOLS
    placed = {i: (1, int(market.option_seat[i])) for i in range(0, SCHOOLS, 2)}
    position = np.arange(SCHOOLS, dtype=np.int64)
    weight = np.ones(SCHOOLS, dtype=np.int64)
    tracemalloc.start()
    try:
        best = best_places(round_, placed, position, weight)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert best == placed
    every_school_and_seat = SCHOOLS * len(market.seats) * 8
    assert peak < every_school_and_seat / 20
