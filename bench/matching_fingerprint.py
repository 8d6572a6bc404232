"""A short fingerprint of a whole allocation, so an engine change can show it decides the same.

    python -m bench.matching_fingerprint [--counties N] [--fraction F] [--seed N ...]

The fingerprint covers every assignment (student, placement, week, rank, pinned, cleared), every
unplaced student with the reason they are given, and every school's quota, in the result's own
order. Two results share a fingerprint only if they are the same allocation, so a change meant to
make the engine faster, not different, must leave the recorded fingerprints
(``tests/unit/placements/test_same_allocations.py``) as they are.

The flows break ties between equally good allocations the way OR-Tools' solver happens to walk
the network: a change to the arcs given to it (their order, a merged or split network, another
solver or solver version) can pick another tied optimum, and the settling steps after it carry
the difference into the final allocation. This is what the recorded fingerprints catch.
"""

from __future__ import annotations

import argparse
import hashlib

from bench.synthetic_county import CountySpec, build_region
from services.placements.domain.matching import match
from services.placements.domain.model import MatchResult


def fingerprint(result: MatchResult) -> str:
    """Hex SHA-256 over the allocation's assignments, unplaced students and quotas."""
    digest = hashlib.sha256()
    for a in result.assignments:
        line = f"A {a.student_id} {a.placement_id} {a.week.isoformat()} {a.rank} {a.pinned}"
        digest.update(f"{line} {a.cleared}\n".encode())
    for u in result.unplaced:
        digest.update(f"U {u.student_id} {u.reason.value}\n".encode())
    for school, quota in sorted(result.school_quotas.items()):
        digest.update(f"Q {school} {quota}\n".encode())
    return digest.hexdigest()


def region_result(counties: int, fraction: float, seed: int) -> MatchResult:
    """The engine's allocation of a synthetic region, the county and the lottery both ``seed``."""
    spec = CountySpec(seed=seed).scaled(fraction)
    return match(build_region(spec, counties), seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=1, help="counties side by side")
    parser.add_argument("--fraction", type=float, default=1.0, help="scale of each county")
    parser.add_argument("--seed", type=int, nargs="+", default=[2026], help="seeds to run")
    args = parser.parse_args(argv)
    for seed in args.seed:
        result = region_result(args.counties, args.fraction, seed)
        placed = len(result.assignments)
        cleared = sum(a.cleared for a in result.assignments)
        print(
            f"counties {args.counties} fraction {args.fraction} seed {seed}: placed {placed}, "
            f"cleared {cleared}, fingerprint {fingerprint(result)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
