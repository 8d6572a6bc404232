"""Notifications' application works through ports, with no table, statement or session of
its own, and takes the time from the clock it is given."""

from __future__ import annotations

import pytest

from tests.layers import SERVICES, clocks_read, imports_from, module_level_state, modules

pytestmark = pytest.mark.unit

NOTIFICATIONS = SERVICES / "notifications"
APPLICATION = modules(NOTIFICATIONS / "application")

# The adapters that hold the service's data. (Templates, the calendar invitation and the
# channels' failures are still imported by the dispatcher, as the outside systems it drives.)
STORAGE = tuple(
    f"services.notifications.adapters.{name}"
    for name in ("orm", "message_store", "contact_store", "appointment_copies", "uow")
)
DATABASE = ("sqlalchemy", "asyncpg", "aiosqlite", "shared.db", "shared.messaging", *STORAGE)


@pytest.mark.parametrize("module", APPLICATION)
def test_no_application_module_sees_a_table_statement_or_session(module: str) -> None:
    assert not imports_from(NOTIFICATIONS / "application" / f"{module}.py", DATABASE)


@pytest.mark.parametrize("module", APPLICATION)
def test_no_application_module_reads_a_clock_of_its_own(module: str) -> None:
    assert not clocks_read(NOTIFICATIONS / "application" / f"{module}.py")


@pytest.mark.parametrize("module", APPLICATION)
def test_no_application_module_holds_hidden_mutable_state(module: str) -> None:
    assert not module_level_state(NOTIFICATIONS / "application" / f"{module}.py")
