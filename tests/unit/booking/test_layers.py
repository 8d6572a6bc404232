"""Booking's appointment use cases work through ports; its decision is pure domain."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

BOOKING = Path(__file__).resolve().parents[3] / "services" / "booking"
USE_CASES = (
    "booking",
    "rescheduling",
    "lifecycle",
    "waitlist",
    "dropins",
    "appointment_events",
    "ports",
)


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", USE_CASES)
def test_an_appointment_use_case_sees_no_table_or_statement(module: str) -> None:
    found = imported(BOOKING / "application" / f"{module}.py")
    assert not {n for n in found if n.startswith(("sqlalchemy", "services.booking.adapters"))}


def test_the_placement_decision_imports_only_the_domain() -> None:
    found = imported(BOOKING / "domain" / "placement.py")
    outside = {
        n
        for n in found
        if n.startswith("services.") and not n.startswith("services.booking.domain")
    }
    assert not outside
    assert not {n for n in found if n.startswith(("sqlalchemy", "aiohttp", "shared"))}
