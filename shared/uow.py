"""The unit of work: one business transaction whose state changes and events commit together."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.events import Envelope, EventPayload
from shared.messaging.outbox import OUTBOX_WRITTEN, record, wrote_to_outbox


class UnitOfWork:
    """Use as `async with uow: ...; await uow.commit()`. Leaving without commit rolls back.

    Events emitted with `emit` go to the outbox in the same transaction; after a commit that
    wrote events, `on_commit` wakes the relay so they are published promptly.
    """

    session: AsyncSession

    def __init__(
        self, db: Database, *, producer: str, on_commit: Callable[[], None] | None = None
    ) -> None:
        self._db = db
        self._producer = producer
        self._on_commit = on_commit

    async def __aenter__(self) -> Self:
        self.session = self._db.sessions()
        await self.session.begin()
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

    async def commit(self) -> None:
        await self.session.commit()
        if wrote_to_outbox(self.session) and self._on_commit is not None:
            self._on_commit()
        self.session.info.pop(OUTBOX_WRITTEN, None)

    async def rollback(self) -> None:
        await self.session.rollback()
        self.session.info.pop(OUTBOX_WRITTEN, None)
