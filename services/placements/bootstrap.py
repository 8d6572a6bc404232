"""Placements' composition root: the one place that wires adapters to the application."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from services.placements.adapters.directory_copies import DirectoryUnitOfWork
from services.placements.adapters.uow import PlacementsReads, PlacementsUnitOfWork
from services.placements.application import directory
from services.placements.application.run_progress import ProgressRecorder
from services.placements.application.runs import MatchingRunner, execute_run
from services.placements.entrypoints import api, pages
from services.placements.entrypoints.context import PLACEMENTS, PlacementsContext
from services.placements.settings import PlacementsSettings
from shared.events import catalogue  # noqa: F401  (registers every payload schema)
from shared.http.app import DATABASE, MESSAGING, consume_revocations, create_service_app
from shared.http.pages import install_pages

MIGRATIONS = Path(__file__).parent / "migrations"
TEMPLATES = Path(__file__).parent / "entrypoints" / "templates"
PRODUCER = "placements"


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(settings: PlacementsSettings) -> web.Application:
    def wire(app: web.Application) -> None:
        db = app[DATABASE]
        messaging = app[MESSAGING]
        consume_revocations(app)
        messaging.add_consumer(
            "placements.directory",
            topics=["directory.events"],
            handlers=directory.HANDLERS,
            unit_of_work=lambda session: DirectoryUnitOfWork(db, producer=PRODUCER).within(session),
        )

        def unit_of_work() -> PlacementsUnitOfWork:
            return PlacementsUnitOfWork(db, producer=PRODUCER, on_commit=messaging.relay.wake)

        @asynccontextmanager
        async def reads() -> AsyncIterator[PlacementsReads]:
            async with db.read_session() as session:
                yield PlacementsReads(session)

        async def execute(run_id: str) -> None:
            # The run's stages go on its row as they pass, for the pages to show.
            recorder = ProgressRecorder(unit_of_work, run_id, asyncio.get_running_loop())
            await execute_run(reads, unit_of_work, run_id, utc_now, progress=recorder)
            await recorder.flush()

        runner = MatchingRunner(execute)
        app[PLACEMENTS] = PlacementsContext(settings, db, unit_of_work, runner, utc_now)

        async def finish_runs(_app: web.Application) -> None:
            await runner.shutdown()

        app.on_shutdown.append(finish_runs)

    app = create_service_app(
        settings,
        spec=api.spec,
        routes=[*api.ROUTES, *pages.ROUTES],
        migrations=MIGRATIONS,
        wire=wire,
        translate_error=api.translate_placements_error,
    )
    install_pages(app, TEMPLATES, title="Work experience")
    return app
