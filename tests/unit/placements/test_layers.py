"""Placements' application works through ports, with no table or statement, and takes the
time from the composition root."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.layers import SERVICES, clocks_read, imports_from, modules

pytestmark = pytest.mark.unit

PLACEMENTS = SERVICES / "placements"
APPLICATION = modules(PLACEMENTS / "application")

STORAGE = ("sqlalchemy", "shared.db", "shared.uow", "services.placements.adapters")
LOOKUP_TABLES = {"services.placements.adapters.postcode_districts"}
"""Postcode districts' centres, a table shipped with the code and read as pure lookups."""


@pytest.mark.parametrize("module", APPLICATION)
def test_no_application_module_sees_a_table_or_statement(module: str) -> None:
    path = PLACEMENTS / "application" / f"{module}.py"
    assert not imports_from(path, STORAGE, allowed=LOOKUP_TABLES)


@pytest.mark.parametrize("module", APPLICATION)
def test_no_application_module_reads_a_clock_of_its_own(module: str) -> None:
    assert not clocks_read(PLACEMENTS / "application" / f"{module}.py")


@pytest.mark.parametrize(
    "path", sorted((PLACEMENTS / "entrypoints").glob("*_api.py")), ids=lambda p: p.name
)
def test_routes_take_the_time_from_the_composition_root(path: Path) -> None:
    assert not clocks_read(path)
