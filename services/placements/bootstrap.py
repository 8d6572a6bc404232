"""Placements' composition root."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from services.placements.application import directory
from services.placements.entrypoints import api
from services.placements.settings import PlacementsSettings
from shared.events import catalogue  # noqa: F401  (registers every payload schema)
from shared.http.app import MESSAGING, create_service_app

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: PlacementsSettings) -> web.Application:
    def wire(app: web.Application) -> None:
        app[MESSAGING].add_consumer(
            "placements.directory", topics=["directory.events"], handlers=directory.HANDLERS
        )

    return create_service_app(
        settings, spec=api.spec, routes=[api.routes], migrations=MIGRATIONS, wire=wire
    )
