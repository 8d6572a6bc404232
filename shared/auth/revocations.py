"""Sessions revoked before their tokens expire, as every service refuses them.

Booking publishes `identity.session.revoked`; each service's consumer writes it to its own
`revoked_sessions` table (`record`), which is the truth for all of that service's replicas,
since a consumer group hands each event to one replica only. A process reads the ids still
in force at most once per `refresh_seconds`, so checking a token costs no database read
beyond that one; the replica that applied an event knows it at once. Rows past their
expiry are purged as new ones arrive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa

from shared.db import Database, upsert
from shared.events.envelope import Event
from shared.events.identity import SessionRevoked
from shared.messaging.tables import revoked_sessions
from shared.uow import UnitOfWork


class RevokedSessions:
    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float],
        refresh_seconds: float = 1.0,
    ) -> None:
        self._db = db
        self._clock = clock
        self._monotonic = monotonic
        self._refresh_seconds = refresh_seconds
        self._denied: dict[str, datetime] = {}
        self._read_at: float | None = None
        self._lock = asyncio.Lock()

    async def is_revoked(self, session_id: str) -> bool:
        if self._stale():
            async with self._lock:  # one read for all the requests waiting on it
                if self._stale():
                    await self._refresh()
        ends = self._denied.get(session_id)
        return ends is not None and ends > self._clock()

    async def record(self, revoked: Event[SessionRevoked], uow: UnitOfWork) -> None:
        """The consumer's handler: keep the revocation until its tokens expire."""
        event, session = revoked.payload, uow.session
        await upsert(
            session,
            revoked_sessions,
            {"session_id": event.session_id, "expires_at": event.expires_at},
            key=("session_id",),
        )
        await session.execute(
            sa.delete(revoked_sessions).where(revoked_sessions.c.expires_at <= self._clock())
        )
        self._denied[event.session_id] = event.expires_at

    def _stale(self) -> bool:
        return self._read_at is None or self._monotonic() - self._read_at >= self._refresh_seconds

    async def _refresh(self) -> None:
        query = sa.select(revoked_sessions.c.session_id, revoked_sessions.c.expires_at).where(
            revoked_sessions.c.expires_at > self._clock()
        )
        async with self._db.single_read() as conn:
            rows = (await conn.execute(query)).all()
        self._denied = {row.session_id: row.expires_at for row in rows}
        self._read_at = self._monotonic()
