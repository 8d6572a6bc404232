"""How a relay takes a batch of outbox rows to publish, and records what became of them.

A claim is a short write transaction that picks the rows due for publishing and leases them
(`next_attempt_at` moves a little into the future), so that no other relay takes them while
this one publishes, and nothing is held open while the broker is waited for. The outcome is
written in a second short transaction. A relay that dies in between leaves the lease to run
out, and the rows are published again (at-least-once).

A row is due when it is pending, its `next_attempt_at` has passed, and no earlier row of
the same key is held back (parked, backing off, or leased to another relay): one key's
events reach the topic in commit order while other keys flow on.

Per backend: SQLite serialises claims by its `BEGIN IMMEDIATE` write lock; PostgreSQL by a
transaction-scoped advisory lock, with `FOR UPDATE SKIP LOCKED` so a claim never waits on
rows another transaction (an erasure, a retry) is changing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.messaging.tables import FAILED, PENDING, PUBLISHED, outbox

RELAY_LOCK = 0x5349474E  # claims are taken one relay at a time per database (an arbitrary key)


@dataclass(frozen=True)
class Claimed:
    seq: int
    topic: str
    key: str
    body: str
    attempts: int


@dataclass(frozen=True)
class RetryPolicy:
    """How often a row that the broker refuses is tried, and how long it waits in between."""

    max_attempts: int = 5
    base_seconds: float = 1.0
    max_seconds: float = 300.0

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.base_seconds * 2 ** (attempts - 1), self.max_seconds))


@dataclass
class Outcome:
    """What became of a claimed batch: published, refused by the broker (with the error
    class), or released untried for a later pass."""

    published: list[int] = field(default_factory=list)
    refused: dict[int, tuple[Claimed, str]] = field(default_factory=dict)
    released: list[int] = field(default_factory=list)


class ClaimStrategy(Protocol):
    async def claim(self, now: datetime, limit: int) -> list[Claimed]:
        """Lease up to `limit` due rows, in `seq` order, in one short write transaction."""
        ...


# Statuses inline rather than bound: a prepared statement's generic plan can then still
# see that the query matches ix_outbox_held's predicate.
FAILED_SQL: sa.ColumnElement[str] = sa.literal_column(f"'{FAILED}'")
PENDING_SQL: sa.ColumnElement[str] = sa.literal_column(f"'{PENDING}'")


def due_rows(now: datetime, limit: int) -> sa.Select[Any]:
    earlier = outbox.alias("earlier")
    held_back = (
        sa.select(earlier.c.seq)
        .where(
            earlier.c.key == outbox.c.key,
            earlier.c.seq < outbox.c.seq,
            # ix_outbox_held's predicate, spelled as in the index so that both databases
            # probe that small index, then what holds back a row now.
            earlier.c.published_at.is_(None),
            sa.or_(earlier.c.status == FAILED_SQL, earlier.c.next_attempt_at.is_not(None)),
            sa.or_(earlier.c.status == FAILED_SQL, earlier.c.next_attempt_at > now),
        )
        .exists()
    )
    return (
        sa.select(outbox.c.seq, outbox.c.topic, outbox.c.key, outbox.c.body, outbox.c.attempts)
        .where(
            outbox.c.published_at.is_(None),
            outbox.c.status == PENDING_SQL,
            sa.or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now),
            ~held_back,
        )
        .order_by(outbox.c.seq)
        .limit(limit)
    )


async def _lease(session: AsyncSession, query: sa.Select[Any], until: datetime) -> list[Claimed]:
    rows = [Claimed(**row._asdict()) for row in (await session.execute(query)).all()]
    if rows:
        await session.execute(
            outbox.update()
            .where(outbox.c.seq.in_([r.seq for r in rows]))
            .values(next_attempt_at=until)
        )
    return rows


class SqliteClaims:
    """One writer at a time by SQLite's own lock, taken only when a read found rows due; the
    write lasts two statements."""

    def __init__(self, db: Database, lease: timedelta) -> None:
        self._db = db
        self._lease = lease

    async def claim(self, now: datetime, limit: int) -> list[Claimed]:
        async with self._db.read_session() as session:
            if (await session.execute(due_rows(now, 1))).first() is None:
                return []
        async with self._db.session() as session:
            return await _lease(session, due_rows(now, limit), now + self._lease)


class PostgresClaims:
    """Replicas take turns by an advisory lock held only for the claim transaction."""

    def __init__(self, db: Database, lease: timedelta) -> None:
        self._db = db
        self._lease = lease

    async def claim(self, now: datetime, limit: int) -> list[Claimed]:
        async with self._db.session() as session:
            await session.execute(sa.select(sa.func.pg_advisory_xact_lock(RELAY_LOCK)))
            query = due_rows(now, limit).with_for_update(skip_locked=True, of=outbox)
            return await _lease(session, query, now + self._lease)


def claim_strategy(db: Database, lease: timedelta) -> ClaimStrategy:
    return SqliteClaims(db, lease) if db.is_sqlite else PostgresClaims(db, lease)


async def settle(db: Database, outcome: Outcome, now: datetime, policy: RetryPolicy) -> None:
    """Record a batch's outcome in one short write: published rows, refusals, releases."""
    mine = outbox.c.status == PENDING
    async with db.session() as session:
        if outcome.published:
            await session.execute(
                outbox.update()
                .where(outbox.c.seq.in_(outcome.published), mine)
                .values(
                    status=PUBLISHED,
                    published_at=now,
                    attempts=outbox.c.attempts + 1,
                    next_attempt_at=None,
                    last_error=None,
                )
            )
        for seq, (row, error) in outcome.refused.items():
            attempts = row.attempts + 1
            parked = attempts >= policy.max_attempts
            await session.execute(
                outbox.update()
                .where(outbox.c.seq == seq, mine)
                .values(
                    attempts=attempts,
                    last_error=error,
                    status=FAILED if parked else PENDING,
                    failed_at=now if parked else None,
                    next_attempt_at=None if parked else now + policy.delay(attempts),
                )
            )
        if outcome.released:
            await session.execute(
                outbox.update()
                .where(outbox.c.seq.in_(outcome.released), mine)
                .values(next_attempt_at=None)
            )
