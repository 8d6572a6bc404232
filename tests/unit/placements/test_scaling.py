"""The spatial index changes how options are found, never which: the same allocations as a scan.

``bench.scan_baseline`` keeps the engine's former full scan, frozen, and the index is checked
against it on whole synthetic counties and on a region of two.
"""

from __future__ import annotations

import pytest

from bench.scan_baseline import full_scan
from bench.synthetic_county import CountySpec, build_county, build_region
from services.placements.domain.matching import match
from services.placements.domain.model import UnplacedReason

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("counties", "fraction", "seed"),
    [(1, 0.2, 2026), (1, 0.2, 7), (1, 0.3, 11), (2, 0.1, 5)],
)
def test_the_spatial_index_gives_the_allocation_the_full_scan_gave(
    counties: int, fraction: float, seed: int
) -> None:
    spec = CountySpec(seed=seed).scaled(fraction)
    problem = build_county(spec) if counties == 1 else build_region(spec, counties)
    indexed = match(problem, seed)
    with full_scan():
        scanned = match(problem, seed)
    assert len(scanned.assignments) > 0
    assert {u.reason for u in scanned.unplaced} - {
        UnplacedReason.CAPACITY_EXHAUSTED,
        UnplacedReason.SCHOOL_QUOTA_REACHED,
    }
    assert indexed == scanned
