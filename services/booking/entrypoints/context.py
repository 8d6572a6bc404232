"""What booking's handlers get from the composition root, under one typed app key."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from services.booking.adapters.repositories.admin_reads import AdminReadRepository
from services.booking.adapters.uow import BookingReads, BookingUnitOfWork
from services.booking.application.cache import ReferenceCache
from services.booking.application.calendars import FeedTokens
from services.booking.application.identity import Identity
from services.booking.settings import BookingSettings
from shared.db import Database


@dataclass(frozen=True)
class BookingContext:
    settings: BookingSettings
    identity: Identity
    unit_of_work: Callable[[], BookingUnitOfWork]
    db: Database
    cache: ReferenceCache
    clock: Callable[[], datetime]
    feed_tokens: FeedTokens

    @asynccontextmanager
    async def reads(self) -> AsyncIterator[BookingReads]:
        """Booking's repositories over a read session, for what changes nothing."""
        async with self.db.read_session() as session:
            yield BookingReads(session, self.cache)

    @asynccontextmanager
    async def admin_reads(self) -> AsyncIterator[AdminReadRepository]:
        """The admin's reads of the directory and the sessions, over a read session."""
        async with self.db.read_session() as session:
            yield AdminReadRepository(session)

    @property
    def offer_ttl(self) -> timedelta:
        return timedelta(seconds=self.settings.waitlist_offer_seconds)


BOOKING = web.AppKey("booking", BookingContext)


def booking(request: web.Request) -> BookingContext:
    return request.app[BOOKING]
