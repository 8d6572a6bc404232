"""Booking's application works through ports, with no table or statement; its decision is
pure domain; no module keeps mutable state of its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

BOOKING = Path(__file__).resolve().parents[3] / "services" / "booking"
APPLICATION = sorted(p.stem for p in (BOOKING / "application").glob("*.py"))


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", APPLICATION)
def test_no_application_module_sees_a_table_or_statement(module: str) -> None:
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


def _module_level_state(path: Path) -> list[str]:
    """Names bound at module level to a mutable container, and any `global` statement."""
    found = []
    tree = ast.parse(path.read_text())
    for node in tree.body:
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute | ast.Name):
            name = value.func.attr if isinstance(value.func, ast.Attribute) else value.func.id
            if name in {"WeakKeyDictionary", "WeakValueDictionary", "defaultdict", "dict", "set"}:
                found.append(ast.unparse(node))
    found += [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.Global)]
    return found


@pytest.mark.parametrize(
    "path",
    sorted(p for p in BOOKING.rglob("*.py") if "migrations" not in p.parts),
    ids=lambda p: str(p.relative_to(BOOKING)),
)
def test_no_booking_module_holds_hidden_mutable_state(path: Path) -> None:
    assert not _module_level_state(path)


WALL_CLOCKS = {"datetime.now", "datetime.utcnow", "date.today", "time.time"}


def _clocks_read(path: Path) -> set[str]:
    return {
        ast.unparse(node.func)
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    } & (WALL_CLOCKS | {"time.monotonic"})


@pytest.mark.parametrize("module", APPLICATION)
def test_no_application_module_reads_a_clock_of_its_own(module: str) -> None:
    assert not _clocks_read(BOOKING / "application" / f"{module}.py")


@pytest.mark.parametrize(
    "path", sorted((BOOKING / "entrypoints").glob("*.py")), ids=lambda p: p.name
)
def test_entrypoints_take_the_time_of_day_from_the_composition_root(path: Path) -> None:
    assert not _clocks_read(path) & WALL_CLOCKS
