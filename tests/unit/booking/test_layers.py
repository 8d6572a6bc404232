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


MUTATORS = {"append", "add", "clear", "discard", "extend", "insert", "pop", "popitem"}
MUTATORS |= {"remove", "setdefault", "update"}


def _module_level_state(path: Path) -> list[str]:
    """Module-level names that the module changes after binding them (an item stored, a
    mutating method called), weak dictionaries, and `global` statements."""
    tree = ast.parse(path.read_text())
    names = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found.append(ast.unparse(node))
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store | ast.Del):
            if isinstance(node.value, ast.Name) and node.value.id in names:
                found.append(ast.unparse(node))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id in names and node.func.attr in MUTATORS:
                found.append(ast.unparse(node))
            if node.func.attr in {"WeakKeyDictionary", "WeakValueDictionary"}:
                found.append(ast.unparse(node))
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
