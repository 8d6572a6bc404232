"""The engine's former full scan for options, frozen, to compare the spatial index against.

It found sector options by measuring every student against every placement of the sector, and
explained an unplaced student by checking every placement of every preferred sector. Inside
``full_scan()`` the engine runs that way again, for the equivalence test and for
``bench.matching --scale``'s baseline figures.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from services.placements.domain import eligibility, matching
from services.placements.domain.eligibility import (
    FloatArray,
    IntArray,
    PlacementCatalogue,
    _haversine,
    _StudentArrays,
)
from services.placements.domain.model import Placement, Student, UnplacedReason
from services.placements.domain.reasons import _first_failed_rule


@contextmanager
def full_scan() -> Iterator[None]:
    """Run the engine with the former scan in place of the spatial index."""
    saved = eligibility._preferred_pairs, matching.ineligibility_reason
    eligibility._preferred_pairs = _scanned_pairs
    matching.ineligibility_reason = _scanned_reason
    try:
        yield
    finally:
        eligibility._preferred_pairs, matching.ineligibility_reason = saved


def _scanned_pairs(
    students: Sequence[Student], catalogue: PlacementCatalogue, people: _StudentArrays
) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
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
    parts = []
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
        members = catalogue.sector_members[sector]
        h = _haversine(people, who[:, None], catalogue, members[None, :])
        row, column = np.nonzero(h <= people.limit[who][:, None])
        rank_of = np.array(ranks, dtype=np.int64)
        parts.append((who[row], members[column], rank_of[row], h[row, column]))
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]).astype(np.int64),
        np.concatenate([p[3] for p in parts]),
    )


def _scanned_reason(student: Student, catalogue: PlacementCatalogue) -> UnplacedReason:
    found: dict[str, Placement] = {}
    for preference in student.preferences:
        if preference.placement_id in catalogue.by_id:
            found[preference.placement_id] = catalogue.by_id[preference.placement_id]
        for placement in catalogue.by_sector.get(preference.sector or "", ()):
            found[placement.id] = placement
    blamed = Counter(_first_failed_rule(student, catalogue, p) for p in found.values())
    if not blamed:
        return UnplacedReason.NO_MATCHING_PLACEMENT
    order = list(UnplacedReason)
    return min(blamed, key=lambda reason: (-blamed[reason], order.index(reason)))
