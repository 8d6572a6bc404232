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
    released = asyncio.Event()

    async def slow() -> str:
        await released.wait()
        return "before the write"

    racing = asyncio.create_task(cache.load(("agreement", "a"), slow))
    await asyncio.sleep(0)  # let the read start
    cache.invalidate()  # a write committed while it was reading
    released.set()
    assert await racing == "before the write"
    assert cache.get(("agreement", "a")) == (False, None)


async def test_requests_missing_at_once_share_one_read() -> None:
    cache = ReferenceCache(Clock())
    reads: list[int] = []

    async def read() -> str:
        reads.append(1)
        await asyncio.sleep(0)
        return "kinds"

    found = await asyncio.gather(*(cache.load(("kinds",), read) for _ in range(5)))
    assert (found, len(reads)) == (["kinds"] * 5, 1)
