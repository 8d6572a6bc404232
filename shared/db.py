"""Database engine and sessions for SQLite (embedded default) and PostgreSQL (production).

On SQLite every write transaction starts with `BEGIN IMMEDIATE`, so writers are serialised
by the database itself rather than by a check in Python: two requests can never both read
"slot free" and both insert. Reads that must not take the write lock use `read_session()`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Result, event, text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SqlAlchemyTimeout
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import TypeDecorator

SQLITE_BEGIN_OPTION = "sqlite_begin"


class UtcDateTime(TypeDecorator[datetime]):
    """An instant stored in UTC and always read back timezone-aware, on every backend.

    SQLite has no time zones and returns naive values; PostgreSQL's timestamptz returns aware
    ones. This type makes both behave the same and refuses naive datetimes on the way in.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store instants as timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLSTATEs for "this transaction lost a race with another; run it again from the start".
SERIALIZATION_FAILURE = "40001"
DEADLOCK_DETECTED = "40P01"
# SQLSTATEs of a server that is away: connection exceptions (class 08), shutting down or
# starting up (57P01-57P03), no connection slots left (53300).
_OUTAGE_STATES = ("57P01", "57P02", "57P03", "53300")
# SQLite errors of a database file that cannot be reached (not of a statement that is wrong).
_SQLITE_OUTAGES = ("unable to open database file", "disk i/o error")
_SQLITE_CONTENTION = ("database is locked", "database table is locked", "database is busy")


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    code = code or getattr(exc, "sqlstate", None)  # a driver error SQLAlchemy did not wrap
    return code if isinstance(code, str) else None


def is_database_outage(exc: BaseException) -> bool:
    """The database (or the connection to it) is away, not the work being done at fault."""
    if isinstance(exc, SqlAlchemyTimeout):
        return True  # no pooled connection could be had in time
    if is_contention(exc):
        return False
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    code = _sqlstate(exc)
    if code is not None:
        return code.startswith("08") or code in _OUTAGE_STATES
    if isinstance(exc, OperationalError) and _is_sqlite_error(exc):
        return any(text in str(exc.orig).lower() for text in _SQLITE_OUTAGES)
    return isinstance(exc, OperationalError | InterfaceError)


def is_contention(exc: BaseException) -> bool:
    """Another transaction got in the way: a PostgreSQL deadlock or serialization failure,
    or a SQLite database still locked after its busy timeout. Running it again is the remedy.
    """
    if lost_to_concurrent_transaction(exc):
        return True
    return (
        isinstance(exc, OperationalError)
        and _is_sqlite_error(exc)
        and any(text in str(exc.orig).lower() for text in _SQLITE_CONTENTION)
    )


def is_connection_failure(exc: BaseException) -> bool:
    """A bare socket error or timeout: the database driver's while connecting, or any outside
    system's (SMTP, an HTTP call). Only asking the database tells which.
    """
    return isinstance(exc, OSError | TimeoutError) and not isinstance(exc, DBAPIError)


def is_transient(exc: BaseException) -> bool:
    """Worth answering "try again shortly": an outage, contention, or a connection failure.

    The HTTP layer answers 503 on it. Consumers tell these apart (see the consumer module).
    """
    return is_database_outage(exc) or is_contention(exc) or is_connection_failure(exc)


def lost_to_concurrent_transaction(exc: BaseException) -> bool:
    """True when PostgreSQL aborted the transaction because of another one (a deadlock, or a
    serialization failure) and running it again from the start is the remedy.

    Concurrent inserts that clash on an exclusion constraint can wait on each other; the
    server then aborts one of them as a deadlock.
    """
    return _sqlstate(exc) in (SERIALIZATION_FAILURE, DEADLOCK_DETECTED)


def _is_sqlite_error(exc: DBAPIError) -> bool:
    return type(exc.orig).__module__.startswith("sqlite3")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so that we choose how BEGIN is issued.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def create_engine(url: str, *, pool_size: int = 5, echo: bool = False) -> AsyncEngine:
    """An engine for `url`; on PostgreSQL a pool of `pool_size` connections and as many more
    at a peak.

    No ping on checkout: with asyncpg it is a transaction of its own (three round trips) in
    front of every unit of work. A connection the server dropped fails the one statement
    that meets it, SQLAlchemy then discards every connection opened before the failure, and
    callers treat the failure as transient (`is_transient`): the HTTP layer answers 503 with
    Retry-After, consumers and the outbox relay try again.
    """
    if is_sqlite(url):
        return _sqlite_engine(url)
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, echo=echo)


class Database:
    """One engine and its session factories; opened once per process by the composition root."""

    def __init__(self, url: str, *, pool_size: int = 5) -> None:
        self.url = url
        self.engine = create_engine(url, pool_size=pool_size)
        self.is_sqlite = is_sqlite(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        reader = (
            self.engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
            if self.is_sqlite
            else self.engine
        )
        self._read_sessions = async_sessionmaker(reader, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in one write transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        async with self._read_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def single_read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one read statement, outside a transaction where that is safe.

        On PostgreSQL a single statement is atomic by itself, so it runs in autocommit: one
        round trip instead of BEGIN, the statement and ROLLBACK. SQLite reads keep their
        deferred transaction (its BEGIN costs no round trip).
        """
        if self.is_sqlite:
            async with self.read_session() as session:
                yield await session.connection()
            return
        async with self.engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as conn:
            yield conn

    async def ping(self) -> None:
        async with self.read_session() as session:
            await session.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


async def upsert(
    session: AsyncSession,
    table: Any,
    values: dict[str, Any],
    *,
    key: tuple[str, ...] = ("id",),
    where: Callable[[Any], ColumnElement[bool]] | None = None,
    counter: str | None = None,
) -> Result[Any]:
    """Insert a row or update it in place: one statement on both SQLite and PostgreSQL.

    `where(excluded)` guards the update: when false, the stored row stays as it is.
    `counter` names an integer column that is 1 on insert and one more on each update, raised
    in the statement itself so concurrent writers never share a value; it is returned.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values(**values, **({counter: 1} if counter else {}))
    changes = {k: stmt.excluded[k] for k in values if k not in key}
    if counter is not None:
        changes[counter] = table.c[counter] + 1
    stmt = (
        stmt.on_conflict_do_update(
            index_elements=list(key),
            set_=changes,
            where=where(stmt.excluded) if where is not None else None,
        )
        if changes
        else stmt.on_conflict_do_nothing(index_elements=list(key))
    )
    if counter is not None:
        stmt = stmt.returning(table.c[counter])
    result: Result[Any] = await session.execute(stmt)
    return result
