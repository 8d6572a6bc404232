"""Which database failures are an outage, which are contention, which are the work's own."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shared.db import is_connection_failure, is_contention, is_database_outage, is_transient


class _PgError(Exception):
    """Stands in for the asyncpg adapter's error, which carries the SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _pg(sqlstate: str, *, invalidated: bool = False) -> DBAPIError:
    return DBAPIError("SELECT 1", {}, _PgError(sqlstate), connection_invalidated=invalidated)


def _sqlite(message: str) -> OperationalError:
    return OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))


@pytest.mark.parametrize(
    "exc",
    [
        _pg("08006"),
        _pg("57P01"),
        _pg("53300"),
        _pg("XX000", invalidated=True),
        InterfaceError("SELECT 1", {}, Exception("connection is closed")),
        OperationalError("SELECT 1", {}, ConnectionError("server closed the connection")),
        _sqlite("unable to open database file"),
        PoolTimeout("QueuePool limit reached"),
    ],
)
def test_a_lost_database_connection_is_an_outage(exc: Exception) -> None:
    assert is_database_outage(exc)
    assert not is_contention(exc)
    assert is_transient(exc)


@pytest.mark.parametrize("exc", [_pg("40P01"), _pg("40001"), _sqlite("database is locked")])
def test_deadlocks_serialization_failures_and_a_locked_file_are_contention_not_outage(
    exc: Exception,
) -> None:
    assert is_contention(exc)
    assert not is_database_outage(exc)
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        _pg("22012"),
        _sqlite("no such table: effects"),
        IntegrityError("INSERT", {}, Exception("duplicate key")),
        RuntimeError("a bug"),
    ],
)
def test_a_failure_of_the_work_itself_is_neither_outage_nor_contention(exc: Exception) -> None:
    assert not is_database_outage(exc)
    assert not is_contention(exc)
    assert not is_connection_failure(exc)
    assert not is_transient(exc)


@pytest.mark.parametrize("exc", [TimeoutError(), ConnectionRefusedError(), OSError("reset")])
def test_a_bare_timeout_or_socket_error_is_not_taken_for_a_database_outage(exc: Exception) -> None:
    # SMTP, Twilio or a calendar fetch raise these too; only asking the database tells.
    assert not is_database_outage(exc)
    assert is_connection_failure(exc)
