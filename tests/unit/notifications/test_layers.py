"""Notifications' application works through ports, with no table, statement or session of
its own, and takes the time from the clock it is given."""

from __future__ import annotations

import pytest

from tests.layers import SERVICES, clocks_read, imports_from, module_level_state, modules

pytestmark = pytest.mark.unit

NOTIFICATIONS = SERVICES / "notifications"
APPLICATION = modules(NOTIFICATIONS / "application")

DATABASE = ("sqlalchemy", "asyncpg", "aiosqlite", "shared.db", "shared.messaging")
# Nor the outside systems: the wording, invitations and senders come through the ports of
# `application/sending.py`, and the adapters that hold the data through `application/ports.py`.
OUTSIDE = ("services.notifications.adapters", "jinja2", "icalendar", "twilio", "aiosmtplib")


@pytest.mark.parametrize("module", APPLICATION)
def test_no_application_module_sees_a_table_statement_or_session(module: str) -> None:
    assert not imports_from(NOTIFICATIONS / "application" / f"{module}.py", DATABASE)


@pytest.mark.parametrize("module", APPLICATION)
def test_no_application_module_imports_an_adapter_or_an_outside_system(module: str) -> None:
    assert not imports_from(NOTIFICATIONS / "application" / f"{module}.py", OUTSIDE)


@pytest.mark.parametrize("module", APPLICATION)
def test_no_application_module_reads_a_clock_of_its_own(module: str) -> None:
    assert not clocks_read(NOTIFICATIONS / "application" / f"{module}.py")


@pytest.mark.parametrize("module", APPLICATION)
def test_no_application_module_holds_hidden_mutable_state(module: str) -> None:
    assert not module_level_state(NOTIFICATIONS / "application" / f"{module}.py")
