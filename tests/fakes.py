"""The transaction of the services' fake units of work, shared by their unit tests.

A fake unit names the dicts its repositories keep (`_stores`): entering snapshots them,
leaving without a commit restores them and drops what was emitted, and a commit keeps the
emitted events and counts itself.
"""

from __future__ import annotations

import copy
from types import TracebackType
from typing import Any, Self

from shared.events import EventPayload


class FakeTransaction:
    """Counts commits; a unit left without committing leaves no write and no event."""

    def __init__(self) -> None:
        self.commits = 0
        self.events: list[EventPayload] = []
        self._pending: list[EventPayload] = []
        self._before: Any = None

    def _stores(self) -> tuple[dict[str, Any], ...]:
        """The state a rollback restores (the repositories' `__dict__`s)."""
        return ()

    async def __aenter__(self) -> Self:
        self._pending = []
        self._before = copy.deepcopy(self._stores())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._pending = []
        if self._before is not None:  # rolled back
            for store, before in zip(self._stores(), self._before, strict=True):
                store.clear()
                store.update(before)
        self._before = None

    async def emit(self, payload: EventPayload, *, key: str) -> Any:
        self._pending.append(payload)

    async def commit(self) -> None:
        self._before = None
        self.commits += 1
        self.events += self._pending
        self._pending = []

    def types(self) -> list[str]:
        """The committed events' types, in order."""
        return [type(event).__name__ for event in self.events]
