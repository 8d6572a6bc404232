"""The reference cache over an injected clock: entries lapse after the TTL, writers drop them."""

from __future__ import annotations

import asyncio

import pytest

from services.booking.application.cache import ReferenceCache

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.seconds = 100.0

    def __call__(self) -> float:
        return self.seconds


async def test_an_entry_is_held_for_the_ttl_and_read_again_after_it() -> None:
    clock = Clock()
    cache = ReferenceCache(clock, ttl=3.0)
    reads: list[int] = []

    async def read() -> int:
        reads.append(1)
        return len(reads)

    assert await cache.load(("school", "a"), read) == 1
    clock.seconds += 2.9
    assert await cache.load(("school", "a"), read) == 1
    clock.seconds += 0.1
    assert await cache.load(("school", "a"), read) == 2


async def test_invalidating_drops_what_is_held_and_a_read_that_raced_it_is_not_kept() -> None:
    cache = ReferenceCache(Clock())
    reading, released = asyncio.Event(), asyncio.Event()

    async def slow() -> str:
        reading.set()
        await released.wait()
        return "before the write"

    racing = asyncio.create_task(cache.load(("agreement", "a"), slow))
    await reading.wait()  # the read has started
    cache.invalidate()  # a write committed while it was reading
    released.set()
    assert await racing == "before the write"
    assert cache.get(("agreement", "a")) == (False, None)


async def test_requests_missing_at_once_share_one_read() -> None:
    cache = ReferenceCache(Clock())
    reads: list[int] = []
    asked: list[int] = []
    everyone_asked, released = asyncio.Event(), asyncio.Event()

    async def read() -> str:
        reads.append(1)
        await released.wait()
        return "kinds"

    async def ask() -> str:
        # Nothing between counting and asking yields: a caller counted has asked, and
        # is waiting on the first one's read, before the test goes on.
        asked.append(1)
        if len(asked) == 5:
            everyone_asked.set()
        return str(await cache.load(("kinds",), read))

    asking = asyncio.gather(*(ask() for _ in range(5)))
    await everyone_asked.wait()
    released.set()
    found = await asking
    assert (found, len(reads)) == (["kinds"] * 5, 1)
