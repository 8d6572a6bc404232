"""Charts of a run's results drawn on the server as SVG shapes; each page shows the same
figures in a table beside the chart, for people who cannot see it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

WIDTH = 600
LABEL_WIDTH = 200
BAR_HEIGHT = 22
GAP = 10


@dataclass(frozen=True)
class SchoolBar:
    """One school: its placement rate, and the best rate any allocation could reach."""

    school: str
    students: int
    placed: int
    best: int
    y: float
    placed_width: float
    best_width: float

    @property
    def rate(self) -> int:
        return round(100 * self.placed / self.students) if self.students else 0

    @property
    def best_rate(self) -> int:
        return round(100 * self.best / self.students) if self.students else 0


def school_bars(
    figures: Mapping[str, Mapping[str, Any]], names: Mapping[str, str]
) -> tuple[list[SchoolBar], int]:
    """Each school's placed share (within preferences and through clearing) against the
    share its feasible bound allows, and the chart's height."""
    span = WIDTH - LABEL_WIDTH
    bars = []
    ordered = sorted(figures.items(), key=lambda item: names.get(item[0], item[0]))
    for n, (school_id, f) in enumerate(ordered):
        students = int(f["students"]) or 1
        placed = int(f["within_preferences"]) + int(f["through_clearing"])
        best = max(int(f["feasible_bound"]), placed)
        bars.append(
            SchoolBar(
                names.get(school_id, "A school"),
                int(f["students"]),
                placed,
                best,
                n * (BAR_HEIGHT + GAP),
                span * placed / students,
                span * best / students,
            )
        )
    return bars, max(len(bars) * (BAR_HEIGHT + GAP), BAR_HEIGHT)


@dataclass(frozen=True)
class RankBar:
    label: str
    count: int
    x: float
    height: float


RANK_HEIGHT = 160


def rank_bars(distribution: Mapping[str, int], cleared: int) -> list[RankBar]:
    """How many students got their first, second, ... choice, and how many came through
    clearing, as upright bars."""
    counted = [(f"Choice {rank}", int(n)) for rank, n in sorted(distribution.items(), key=_rank)]
    counted.append(("Clearing", cleared))
    top = max((n for _, n in counted), default=0) or 1
    slot = WIDTH / max(len(counted), 1)
    return [
        RankBar(label, n, k * slot + slot * 0.15, RANK_HEIGHT * n / top)
        for k, (label, n) in enumerate(counted)
    ]


def _rank(item: tuple[str, int]) -> int:
    return int(item[0])
