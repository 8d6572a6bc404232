"""Booking's application works through ports, with no table or statement; its decision is
pure domain; no module keeps mutable state of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.layers import (
    SERVICES,
    WALL_CLOCKS,
    clocks_read,
    imported,
    imports_from,
    module_level_state,
    modules,
)

pytestmark = pytest.mark.unit

BOOKING = SERVICES / "booking"
APPLICATION = modules(BOOKING / "application")


@pytest.mark.parametrize("module", APPLICATION)
def test_no_application_module_sees_a_table_or_statement(module: str) -> None:
    path = BOOKING / "application" / f"{module}.py"
    assert not imports_from(path, ("sqlalchemy", "services.booking.adapters"))


def test_the_placement_decision_imports_only_the_domain() -> None:
    found = imported(BOOKING / "domain" / "placement.py")
    outside = {
        n
        for n in found
        if n.startswith("services.") and not n.startswith("services.booking.domain")
    }
    assert not outside
    assert not {n for n in found if n.startswith(("sqlalchemy", "aiohttp", "shared"))}


@pytest.mark.parametrize(
    "path",
    sorted(p for p in BOOKING.rglob("*.py") if "migrations" not in p.parts),
    ids=lambda p: str(p.relative_to(BOOKING)),
)
def test_no_booking_module_holds_hidden_mutable_state(path: Path) -> None:
    assert not module_level_state(path)


@pytest.mark.parametrize("module", APPLICATION)
def test_no_application_module_reads_a_clock_of_its_own(module: str) -> None:
    assert not clocks_read(BOOKING / "application" / f"{module}.py")


@pytest.mark.parametrize(
    "path", sorted((BOOKING / "entrypoints").glob("*.py")), ids=lambda p: p.name
)
def test_entrypoints_take_the_time_of_day_from_the_composition_root(path: Path) -> None:
    assert not clocks_read(path) & WALL_CLOCKS
