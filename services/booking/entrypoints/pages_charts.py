"""Charts drawn on the server: the numbers become SVG shapes, and the page shows the same
numbers in a table for people who cannot see the chart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WIDTH = 600


@dataclass(frozen=True)
class Segment:
    label: str
    count: int
    x: float
    width: float
    css_class: str


def coverage_bar(promise: dict[str, Any]) -> list[Segment]:
    """One promise's students as a stacked bar: seen, booked, not yet."""
    parts = [
        ("Seen", int(promise["seen"]), "seen"),
        ("Booked", int(promise["booked"]), "booked"),
        ("Not yet", int(promise["not_reached"]), "not-yet"),
    ]
    total = sum(count for _, count, _ in parts) or 1
    segments, x = [], 0.0
    for label, count, css_class in parts:
        width = WIDTH * count / total
        segments.append(Segment(label, count, x, width, css_class))
        x += width
    return segments
