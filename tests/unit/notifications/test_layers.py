"""Notifications' application works through ports, with no table, statement or session of
its own, and takes the time from the clock it is given."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.booking.test_layers import _clocks_read, _module_level_state, imported

pytestmark = pytest.mark.unit

NOTIFICATIONS = Path(__file__).resolve().parents[3] / "services" / "notifications"
APPLICATION = sorted(p.stem for p in (NOTIFICATIONS / "application").glob("*.py"))

# The adapters that hold the service's data. (Templates, the calendar invitation and the
# channels' failures are still imported by the dispatcher, as the outside systems it drives.)
STORAGE = tuple(
    f"services.notifications.adapters.{name}"
    for name in ("orm", "message_store", "contact_store", "appointment_copies", "uow")
)
DATABASE = ("sqlalchemy", "asyncpg", "aiosqlite", "shared.db", "shared.messaging", *STORAGE)


@pytest.mark.parametrize("module", APPLICATION)
def test_no_application_module_sees_a_table_statement_or_session(module: str) -> None:
    found = imported(NOTIFICATIONS / "application" / f"{module}.py")
    assert not {n for n in found if n.startswith(DATABASE)}


@pytest.mark.parametrize("module", APPLICATION)
def test_no_application_module_reads_a_clock_of_its_own(module: str) -> None:
    assert not _clocks_read(NOTIFICATIONS / "application" / f"{module}.py")


@pytest.mark.parametrize("module", APPLICATION)
def test_no_application_module_holds_hidden_mutable_state(module: str) -> None:
    assert not _module_level_state(NOTIFICATIONS / "application" / f"{module}.py")
