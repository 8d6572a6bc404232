"""The in-process cache under `reference`, kept apart so that writers can invalidate it.

Entries are kept per connection pool, so two databases in one process never share them. A
read that raced a write does not store what it read: the generation has moved on.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

TTL = 3.0  # seconds; how long a change made through another replica may go unseen

Clock = Callable[[], float]


@dataclass
class Entries:
    generation: int = 0
    values: dict[tuple[Any, ...], tuple[float, Any]] = field(default_factory=dict)
    loading: dict[tuple[Any, ...], asyncio.Future[Any]] = field(default_factory=dict)


_BY_POOL: weakref.WeakKeyDictionary[Any, Entries] = weakref.WeakKeyDictionary()
_clock: Clock = time.monotonic


def entries_for(session: AsyncSession) -> Entries:
    pool = _pool(session)
    found = _BY_POOL.get(pool)
    if found is None:
        found = _BY_POOL[pool] = Entries()
    return found


def _pool(session: AsyncSession) -> Any:
    bind = session.bind
    assert bind is not None, "booking sessions are bound to the service's engine"
    return bind.sync_engine.pool


def invalidate(session: AsyncSession) -> None:
    """Forget everything held for this session's database: call after a committed change."""
    entries = entries_for(session)
    entries.generation += 1
    entries.values.clear()


def get(entries: Entries, key: tuple[Any, ...]) -> tuple[bool, Any]:
    held = entries.values.get(key)
    if held is None or held[0] <= _clock():
        return False, None
    return True, held[1]


def put(entries: Entries, generation: int, key: tuple[Any, ...], value: Any) -> None:
    if entries.generation == generation:
        entries.values[key] = (_clock() + TTL, value)


async def load(entries: Entries, key: tuple[Any, ...], loader: Callable[[], Awaitable[Any]]) -> Any:
    """The value held for `key`, or `loader()`'s, read once however many requests miss at once.

    Without this, every request in flight when an entry expires reads it again, and each
    ends up holding a different copy.
    """
    hit, value = get(entries, key)
    if hit:
        return value
    pending = entries.loading.get(key)
    if pending is not None:
        return await asyncio.shield(pending)
    generation = entries.generation
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    entries.loading[key] = future
    try:
        value = await loader()
    except BaseException as exc:
        future.set_exception(exc)
        future.exception()  # retrieved: the waiters (if any) raise it themselves
        raise
    else:
        future.set_result(value)
        put(entries, generation, key, value)
        return value
    finally:
        if entries.loading.get(key) is future:
            del entries.loading[key]
