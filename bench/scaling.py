"""How the engine's cost grows: regions of 1, 2, 4 and 8 synthetic counties (15k to 120k students).

A partnership covering several counties has more students over more ground, so each size lays
that many counties side by side (``synthetic_county.build_region``). Each run is the engine call
alone (``matching.match``, clearing included), in a fresh process that builds its region first.
Peak memory is the process's peak resident set during the call above what it held before: on
Linux the peak is reset just before the call (``/proc/self/clear_refs``) and read from
``VmHWM`` after it; elsewhere ``resource.getrusage`` gives the peak over the process's life.
Beside it, the same call with the former full-scan eligibility (``scan_baseline``), given up on
after a budget.
"""

from __future__ import annotations

import gc
import json
import math
import multiprocessing
import os
import platform
import resource
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from typing import Any

from bench.scan_baseline import full_scan
from bench.synthetic_county import CountySpec, build_region
from services.placements.domain.matching import match

COUNTIES = (1, 2, 4, 8)
QUICK_COUNTIES = (1, 2)
GOAL_GROWTH = 2.3
GOALS = {4: (15.0, 600.0), 8: (40.0, None)}
"""counties: (seconds, peak MB) at most."""


@dataclass(frozen=True, slots=True)
class Measured:
    counties: int
    students: int
    seconds: float
    peak_mb: float
    placed: int
    cleared: int


def _resident_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def _measure(counties: int, seed: int, scan: bool, out: Any) -> None:
    """Child process body: build the region, then time one engine call and its peak memory."""
    problem = build_region(CountySpec(seed=seed), counties)
    gc.collect()
    exact = _reset_peak()
    before = _resident_kb("VmRSS") if exact else 0
    started = time.perf_counter()
    with full_scan() if scan else nullcontext():
        result = match(problem, seed)
    seconds = time.perf_counter() - started
    peak = _resident_kb("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cleared = sum(a.cleared for a in result.assignments)
    out.send(
        Measured(
            counties,
            len(problem.students),
            seconds,
            ((peak or 0) - (before or 0)) / 1024,
            len(result.assignments),
            cleared,
        )
    )


def measure(counties: int, seed: int, scan: bool, budget: float | None) -> Measured | None:
    """One engine call in a fresh process; ``None`` if it has not answered within ``budget``."""
    receiver, sender = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(
        target=_measure, args=(counties, seed, scan, sender)
    )
    child.start()
    if not receiver.poll(budget):
        child.terminate()
        child.join()
        return None
    found: Measured = receiver.recv()
    child.join()
    return found


def growth(rows: list[Measured]) -> float | None:
    """Mean time factor per doubling of students, from the smallest to the largest size."""
    if len(rows) < 2 or rows[0].seconds <= 0:
        return None
    doublings = math.log2(rows[-1].students / rows[0].students)
    return float((rows[-1].seconds / rows[0].seconds) ** (1 / doublings))


def main(seed: int, quick: bool, scan_budget: float, json_path: str | None) -> int:
    sizes = QUICK_COUNTIES if quick else COUNTIES
    ours: list[Measured] = []
    scanned: list[Measured | None] = []
    for counties in sizes:
        found = measure(counties, seed, scan=False, budget=None)
        assert found is not None
        ours.append(found)
        scanned.append(measure(counties, seed, scan=True, budget=scan_budget))
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {load[0]:.2f}"
        if load
        else ""
    )
    print(
        f"{'counties':>8}{'students':>10}{'time (s)':>10}{'peak MB':>9}{'placed':>8}"
        f"{'cleared':>8}{'scan (s)':>10}{'scan MB':>9}"
    )
    for row, old in zip(ours, scanned, strict=True):
        former = f"{old.seconds:>10.2f}{old.peak_mb:>9.0f}" if old else f"{'over budget':>19}"
        print(
            f"{row.counties:>8}{row.students:>10}{row.seconds:>10.2f}{row.peak_mb:>9.0f}"
            f"{row.placed:>8}{row.cleared:>8}{former}"
        )
    ours_growth = growth(ours)
    finished = [m for m in scanned if m is not None]
    scan_growth = growth(finished) if len(finished) == len(scanned) else None
    checks = []
    if ours_growth is not None:
        print(
            f"growth per doubling: {ours_growth:.2f}"
            + (f" (former scan {scan_growth:.2f})" if scan_growth else "")
        )
        checks.append((f"growth per doubling <= {GOAL_GROWTH}", ours_growth <= GOAL_GROWTH))
    for row in ours:
        if row.counties in GOALS:
            seconds, megabytes = GOALS[row.counties]
            met = row.seconds <= seconds and (megabytes is None or row.peak_mb <= megabytes)
            limit = f"<= {seconds:.0f} s" + (f", <= {megabytes:.0f} MB" if megabytes else "")
            checks.append((f"{row.students} students {limit}", met))
    for name, met in checks:
        print(f"goal {'met    ' if met else 'NOT met'} {name}")
    if json_path:
        with open(json_path, "w", encoding="utf-8") as out:
            json.dump(
                {
                    "seed": seed,
                    "load_average": load,
                    "engine": [asdict(m) for m in ours],
                    "former_scan": [asdict(m) if m else None for m in scanned],
                    "growth_per_doubling": ours_growth,
                    "former_growth_per_doubling": scan_growth,
                    "goals": [{"goal": n, "met": m} for n, m in checks],
                },
                out,
                indent=2,
            )
    return 0
