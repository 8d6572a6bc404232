"""What placements' handlers get from the composition root, under one typed app key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from services.placements.application.runs import MatchingRunner
from services.placements.settings import PlacementsSettings
from shared.db import Database
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class PlacementsContext:
    settings: PlacementsSettings
    db: Database
    unit_of_work: Callable[[], UnitOfWork]
    runner: MatchingRunner
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    """Now, for the pages (Europe/London dates, deadlines); tests may give their own."""


PLACEMENTS = web.AppKey("placements", PlacementsContext)


def placements_context(request: web.Request) -> PlacementsContext:
    return request.app[PLACEMENTS]
