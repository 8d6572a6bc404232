"""What every service's application asks of a unit of work, whatever repositories it adds.

The real one is `shared.uow.UnitOfWork`; this module stays free of the database, so that
application modules can name it.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol, Self

from shared.events import EventPayload


class Transaction(Protocol):
    """One business transaction: enter it (`async with uow:`) for each attempt, `emit` the
    events it raises, then `commit`; leaving without `commit` rolls back writes and events."""

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def emit(self, payload: EventPayload, *, key: str) -> Any: ...
    async def commit(self) -> None: ...
