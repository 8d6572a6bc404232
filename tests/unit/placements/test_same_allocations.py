"""Whole allocations, recorded: a change to make the engine faster must not change what it decides.

Each case is a full synthetic county (15,000 students) or a region of two (30,000, where students
near the border have options in both counties), matched with the seed that drew it. The
fingerprints were taken from the engine as it stood when they were recorded (see
``docs/decisions/0005-matching-growth-is-the-flow-solver.md``); ``bench.matching_fingerprint``
prints them again.

A failure here means the allocations changed. If that was meant (a policy change, or a new
OR-Tools release choosing another of several equally good allocations), say so in a decision
record and record the new fingerprints; a speed-up that fails here is not a speed-up.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bench.matching_fingerprint import fingerprint, region_result

pytestmark = pytest.mark.unit

# Seeds 7 (10,254 placed) and 11 (8,558) were recorded too; `bench.matching_fingerprint`
# checks them by hand. The suite keeps one county and the region, which cover both kinds.
RECORDED = [
    (1, 2026, 9387, "42ee635aa285e732f5dedd2e2186b83b14ff12dd83df6dd7617ffb77c8722cf1"),
    (2, 5, 19756, "b6877af3d8676c82eade25948ad189b77fd37c21e2891289f4a8470793a8f075"),
]


@pytest.mark.parametrize(("counties", "seed", "placed", "recorded"), RECORDED)
def test_the_engine_gives_the_recorded_allocation(
    counties: int, seed: int, placed: int, recorded: str
) -> None:
    result = region_result(counties, 1.0, seed)
    assert len(result.assignments) == placed
    assert fingerprint(result) == recorded


def test_the_fingerprint_tells_apart_allocations_that_differ_in_one_assignment() -> None:
    result = region_result(1, 0.05, 3)
    first, *rest = result.assignments
    later_week = replace(first, week=first.week + timedelta(weeks=1))
    changed = replace(result, assignments=(later_week, *rest))
    assert fingerprint(result) == fingerprint(region_result(1, 0.05, 3))
    assert fingerprint(changed) != fingerprint(result)
