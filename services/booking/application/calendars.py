"""A PA's secret calendar feed: show, rotate and revoke its URL, and serve it.

The token in the URL is never stored. A feed row keeps a random nonce, from which the
service's key derives the token again (to show the PA their URL), and the token's hash,
which a fetch is looked up by; so a copy of the database alone opens no feed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from types import TracebackType
from typing import Any, Protocol

from services.booking.domain.calendars import (
    BookedTime,
    DropInBlock,
    FeedEntry,
    feed_entries,
    feed_window,
)
from services.booking.domain.model import Interval, as_utc


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
    if_modified_since: datetime | None = None,
) -> Rendered | None:
    """The feed behind `token` (None if there is none), counting the fetch.

    The ETag comes from a summary of what the feed shows (counts, latest change, revisions,
    the day), so a current client gets its 304 without the events being read or rendered.
    `If-None-Match` decides when sent; otherwise `If-Modified-Since` (see `_last_modified`).
    """
    async with uow:
        record = await uow.feeds.fetched(token_hash(token), now)
        if record is None:
            return None
        window = feed_window(now)
        version = await uow.feeds.version(record.adviser_id, window)
        etag = '"' + hashlib.sha256(repr((now.date(), version)).encode()).hexdigest()[:32] + '"'
        last_modified = _last_modified(now, version[1], version[5])
        if if_none_match is not None:
            current = etag in {t.strip() for t in if_none_match.split(",")}
        elif last_modified is not None and if_modified_since is not None:
            current = last_modified <= if_modified_since
        else:
            current = False
        if current:
            await uow.commit()
            return Rendered(etag, last_modified, None)
        booked = await uow.feeds.booked(record.adviser_id, window)
        dropins = await uow.feeds.dropins(record.adviser_id, window)
        await uow.commit()
    return Rendered(etag, last_modified, render(feed_entries(booked, dropins, now), window))


def _last_modified(now: datetime, *changes: datetime | None) -> datetime | None:
    """The feed's last change to the second: its latest stored change, or the day's start
    (when the window moved on). None while that is within the current second, since a
    change later in the same second could not be told apart by a client's If-Modified-Since."""
    today = datetime.combine(now.astimezone(UTC).date(), time(), tzinfo=UTC)
    latest = max([today, *(as_utc(c) for c in changes if c is not None)])
    second = latest.replace(microsecond=0)
    return second if latest < now.replace(microsecond=0) else None
