"""What placements' handlers get from the composition root, under one typed app key."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from services.placements.adapters.uow import PlacementsReads, PlacementsUnitOfWork
from services.placements.application.runs import MatchingRunner
from services.placements.settings import PlacementsSettings
from shared.db import Database


@dataclass(frozen=True)
class PlacementsContext:
    settings: PlacementsSettings
    db: Database
    unit_of_work: Callable[[], PlacementsUnitOfWork]
    runner: MatchingRunner
    clock: Callable[[], datetime]
    """Now, for the routes and pages (Europe/London dates, deadlines); tests give their own."""

    @asynccontextmanager
    async def reads(self) -> AsyncIterator[PlacementsReads]:
        """Placements' repositories over a read session, for what changes nothing."""
        async with self.db.read_session() as session:
            yield PlacementsReads(session)


PLACEMENTS = web.AppKey("placements", PlacementsContext)


def placements_context(request: web.Request) -> PlacementsContext:
    return request.app[PLACEMENTS]


def clock(request: web.Request) -> datetime:
    """Now, by the clock the composition root gave the service."""
    return request.app[PLACEMENTS].clock()
