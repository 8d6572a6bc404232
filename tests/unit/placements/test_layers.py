"""Placements' application works through ports, with no table or statement, and takes the
time from the composition root."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

PLACEMENTS = Path(__file__).resolve().parents[3] / "services" / "placements"
APPLICATION = sorted(p.stem for p in (PLACEMENTS / "application").glob("*.py"))

LOOKUP_TABLES = {"services.placements.adapters.postcode_districts"}
"""Postcode districts' centres, a table shipped with the code and read as pure lookups."""


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def storage_imports(module: str) -> set[str]:
    found = imported(PLACEMENTS / "application" / f"{module}.py")
    storage = ("sqlalchemy", "shared.db", "shared.uow", "services.placements.adapters")
    return {n for n in found if n.startswith(storage) and n not in LOOKUP_TABLES}


@pytest.mark.parametrize("module", APPLICATION)
def test_no_application_module_sees_a_table_or_statement(module: str) -> None:
    assert not storage_imports(module)


WALL_CLOCKS = {"datetime.now", "datetime.utcnow", "date.today", "time.time", "time.monotonic"}


def _clocks_read(path: Path) -> set[str]:
    return {
        ast.unparse(node.func)
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    } & WALL_CLOCKS


@pytest.mark.parametrize("module", APPLICATION)
def test_no_application_module_reads_a_clock_of_its_own(module: str) -> None:
    assert not _clocks_read(PLACEMENTS / "application" / f"{module}.py")


@pytest.mark.parametrize(
    "path", sorted((PLACEMENTS / "entrypoints").glob("*_api.py")), ids=lambda p: p.name
)
def test_routes_take_the_time_from_the_composition_root(path: Path) -> None:
    assert not _clocks_read(path)
