"""A PA's secret calendar feed: show, rotate and revoke its URL, and serve it.

The token in the URL is never stored. A feed row keeps a random nonce, from which the
service's key derives the token again (to show the PA their URL), and the token's hash,
which a fetch is looked up by; so a copy of the database alone opens no feed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol

from services.booking.domain.calendars import (
    BookedTime,
    DropInBlock,
    FeedEntry,
    feed_entries,
    feed_window,
)
from services.booking.domain.model import Interval


@dataclass(frozen=True)
class FeedRecord:
    adviser_id: str
    nonce: str
    token_hash: str
    created_at: datetime
    last_fetched_at: datetime | None
    fetches: int


@dataclass(frozen=True)
class CalendarImport:
    """A PA's registered calendar URL and what its last fetch found."""

    adviser_id: str
    url: str
    etag: str | None
    last_modified: str | None
    due_at: datetime
    lease_until: datetime | None
    last_fetched_at: datetime | None
    last_result: str | None
    last_error: str | None
    last_good_at: datetime | None
    busy_count: int
    created_at: datetime


class Feeds(Protocol):
    async def of_adviser(self, adviser_id: str) -> FeedRecord | None: ...
    async def replace(
        self, adviser_id: str, nonce: str, token_hash: str, now: datetime
    ) -> None: ...
    async def delete(self, adviser_id: str) -> None: ...
    async def fetched(self, token_hash: str, now: datetime) -> FeedRecord | None: ...
    async def version(self, adviser_id: str, window: Interval) -> tuple[Any, ...]: ...
    async def booked(self, adviser_id: str, window: Interval) -> list[BookedTime]: ...
    async def dropins(self, adviser_id: str, window: Interval) -> list[DropInBlock]: ...


class FeedUnit(Protocol):
    @property
    def feeds(self) -> Feeds: ...
    async def __aenter__(self) -> Any: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...


class FeedTokens(Protocol):
    def new_nonce(self) -> str: ...
    def token(self, nonce: str) -> str: ...


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class FeedView:
    """What the PA is shown: their URL's token, and whether a calendar app is using it."""

    token: str
    created_at: datetime
    last_fetched_at: datetime | None
    fetches: int


@dataclass(frozen=True)
class Rendered:
    """A feed fetch's answer: `body` is None when the client's copy is current (304)."""

    etag: str
    last_modified: datetime | None
    body: bytes | None


def _view(record: FeedRecord, tokens: FeedTokens) -> FeedView:
    return FeedView(
        tokens.token(record.nonce), record.created_at, record.last_fetched_at, record.fetches
    )


async def show_feed(uow: FeedUnit, tokens: FeedTokens, adviser_id: str) -> FeedView | None:
    async with uow:
        record = await uow.feeds.of_adviser(adviser_id)
    return _view(record, tokens) if record is not None else None


async def rotate_feed(
    uow: FeedUnit, tokens: FeedTokens, adviser_id: str, now: datetime
) -> FeedView:
    """A new URL for the PA (their first, or instead of the old, which is dead at once)."""
    nonce = tokens.new_nonce()
    token = tokens.token(nonce)
    async with uow:
        await uow.feeds.replace(adviser_id, nonce, token_hash(token), now)
        await uow.commit()
    return FeedView(token, now, None, 0)


async def revoke_feed(uow: FeedUnit, adviser_id: str) -> bool:
    async with uow:
        existed = await uow.feeds.of_adviser(adviser_id) is not None
        await uow.feeds.delete(adviser_id)
        await uow.commit()
    return existed


Renderer = Callable[[Sequence[FeedEntry], Interval], bytes]


async def fetch_feed(
    uow: FeedUnit,
    token: str,
    now: datetime,
    render: Renderer,
    *,
    if_none_match: str | None = None,
) -> Rendered | None:
    """The feed behind `token` (None if there is none), counting the fetch.

    The ETag comes from a summary of what the feed shows (counts, latest change, revisions,
    the day), so a current client gets its 304 without the events being read or rendered.
    """
    async with uow:
        record = await uow.feeds.fetched(token_hash(token), now)
        if record is None:
            return None
        window = feed_window(now)
        version = await uow.feeds.version(record.adviser_id, window)
        etag = '"' + hashlib.sha256(repr((now.date(), version)).encode()).hexdigest()[:32] + '"'
        changes = [stamp for stamp in (version[1], version[5]) if stamp is not None]
        last_modified = max(changes, default=None)
        if if_none_match is not None and etag in {t.strip() for t in if_none_match.split(",")}:
            await uow.commit()
            return Rendered(etag, last_modified, None)
        booked = await uow.feeds.booked(record.adviser_id, window)
        dropins = await uow.feeds.dropins(record.adviser_id, window)
        await uow.commit()
    return Rendered(etag, last_modified, render(feed_entries(booked, dropins, now), window))
