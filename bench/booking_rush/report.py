"""The report: the figures of one rush and its baseline, printed and written as JSON."""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Figures:
    students: int
    clients: int
    workers: int
    pool_size: int
    advisers: int
    booked: int
    refused: int
    errors: int
    seconds: float
    bookings_per_second: float
    p50_ms: float
    p99_ms: float
    double_bookings: int
    pgbench_clients: int
    pgbench_tps: float
    ratio: float


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


@dataclass(frozen=True)
class Sizes:
    """What the run was asked for, and what it ran with."""

    students: int
    clients: int
    workers: int
    pool_size: int
    advisers: int


def figures_of(
    sizes: Sizes,
    statuses: Counter[int],
    latencies: list[float],
    elapsed: float,
    doubles: int,
    pgbench_clients: int,
    tps: float,
) -> Figures:
    booked = statuses.get(201, 0)
    rate = booked / elapsed
    return Figures(
        students=sizes.students,
        clients=sizes.clients,
        workers=sizes.workers,
        pool_size=sizes.pool_size,
        advisers=sizes.advisers,
        booked=booked,
        refused=statuses.get(409, 0),
        errors=sum(v for k, v in statuses.items() if k not in (201, 409)),
        seconds=round(elapsed, 3),
        bookings_per_second=round(rate, 1),
        p50_ms=round(statistics.median(latencies) * 1000, 1),
        p99_ms=round(percentile(latencies, 0.99) * 1000, 1),
        double_bookings=doubles,
        pgbench_clients=pgbench_clients,
        pgbench_tps=round(tps, 1),
        ratio=round(rate / tps, 3) if tps else 0.0,
    )


def print_report(figures: Figures) -> None:
    print(
        f"students {figures.students}, clients {figures.clients}, "
        f"booking workers {figures.workers} with {figures.pool_size} database connections "
        f"each, advisers {figures.advisers}"
    )
    print(
        f"booked {figures.booked}, refused {figures.refused}, errors {figures.errors} "
        f"in {figures.seconds:.2f} s"
    )
    print(
        f"bookings/s {figures.bookings_per_second:.1f}   p50 {figures.p50_ms:.1f} ms   "
        f"p99 {figures.p99_ms:.1f} ms   double bookings {figures.double_bookings}"
    )
    print(
        f"pgbench (same SQL, {figures.pgbench_clients} clients) {figures.pgbench_tps:.1f} tps"
        f"   ratio {figures.ratio:.3f}"
    )
    if figures.pgbench_clients < figures.clients:
        print(
            f"(pgbench ran {figures.pgbench_clients} clients, not {figures.clients}: the "
            "server's max_connections less 20 kept for others)"
        )


def write_json(figures: Figures, path: Path) -> None:
    path.write_text(json.dumps(asdict(figures), indent=2) + "\n")
