"""The in-process cache of reference data (`adapters.repositories.reference`), apart so
that writers can invalidate it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

TTL = 3.0  # seconds; how long a change made through another replica may go unseen

Clock = Callable[[], float]


class ReferenceCache:
    """Values by key for `ttl` seconds of `clock`, one per database; built by the
    composition root. A read that raced a write does not store what it read: the
    generation has moved on."""

    def __init__(self, clock: Clock, ttl: float = TTL) -> None:
        self._clock = clock
        self._ttl = ttl
        self.generation = 0
        self._values: dict[tuple[Any, ...], tuple[float, Any]] = {}
        self._loading: dict[tuple[Any, ...], asyncio.Future[Any]] = {}

    def invalidate(self) -> None:
        """Forget everything held: call after a committed change."""
        self.generation += 1
        self._values.clear()

    def get(self, key: tuple[Any, ...]) -> tuple[bool, Any]:
        held = self._values.get(key)
        if held is None or held[0] <= self._clock():
            return False, None
        return True, held[1]

    def put(self, generation: int, key: tuple[Any, ...], value: Any) -> None:
        if self.generation == generation:
            self._values[key] = (self._clock() + self._ttl, value)

    async def load(self, key: tuple[Any, ...], loader: Callable[[], Awaitable[Any]]) -> Any:
        """The value held for `key`, or `loader()`'s, read once however many requests miss
        at once.

        Without this, every request in flight when an entry expires reads it again, and
        each ends up holding a different copy.
        """
        hit, value = self.get(key)
        if hit:
            return value
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        generation = self.generation
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            value = await loader()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: the waiters (if any) raise it themselves
            raise
        else:
            future.set_result(value)
            self.put(generation, key, value)
            return value
        finally:
            if self._loading.get(key) is future:
                del self._loading[key]
