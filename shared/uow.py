"""The unit of work: one business transaction whose state changes and events commit together."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.events import Envelope, EventPayload
from shared.messaging.outbox import OUTBOX_WRITTEN, record, wrote_to_outbox

_AFTER_COMMIT = "signpost.after_commit"


class UnitOfWork:
    """Use as `async with uow: ...; await uow.commit()`. Leaving without commit rolls back.

    Events emitted with `emit` go to the outbox in the same transaction; after a commit that
    wrote events, `on_commit` wakes the relay so they are published promptly.

    `within(session)` instead joins a transaction that its caller opened and commits: the
    event consumer's, whose inbox row must commit with the handler's work. Such a unit is
    not entered and not committed; what it emits still reaches the outbox, and the consumer
    wakes the relay after its commit.

    A service's unit of work adds its repositories by defining `_open_repositories_over`.
    """

    session: AsyncSession

    def __init__(
        self, db: Database, *, producer: str, on_commit: Callable[[], None] | None = None
    ) -> None:
        self._db = db
        self._producer = producer
        self._on_commit = on_commit
        self._joined = False

    def within(self, session: AsyncSession) -> Self:
        """This unit over `session`, in a transaction the caller commits."""
        self.session = session
        self._joined = True
        self._open_repositories_over(session)
        return self

    def _open_repositories_over(self, session: AsyncSession) -> None:
        """Open the service's repositories over `session` (none here)."""

    async def __aenter__(self) -> Self:
        self.session = self._db.sessions()
        await self.session.begin()
        self._open_repositories_over(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()

    async def emit(self, payload: EventPayload, *, key: str) -> Envelope:
        envelope = Envelope.wrap(payload, key=key, producer=self._producer)
        await record(self.session, envelope)
        return envelope

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` when this transaction commits (whoever commits it); asking again
        for the same callback in the same transaction calls it once."""
        sync = self.session.sync_session
        waiting: dict[Callable[[], None], Any] = sync.info.setdefault(_AFTER_COMMIT, {})
        if callback in waiting:
            return

        def committed(_session: Any) -> None:
            waiting.pop(callback, None)
            callback()

        waiting[callback] = committed
        sa.event.listen(sync, "after_commit", committed, once=True)

    async def commit(self) -> None:
        if self._joined:
            raise RuntimeError("this unit of work is in its caller's transaction: it commits")
        await self.session.commit()
        if wrote_to_outbox(self.session) and self._on_commit is not None:
            self._on_commit()
        self.session.info.pop(OUTBOX_WRITTEN, None)

    async def rollback(self) -> None:
        await self.session.rollback()
        self.session.info.pop(OUTBOX_WRITTEN, None)
