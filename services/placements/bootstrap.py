"""Placements' composition root: the one place that wires adapters to the application."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from services.placements.adapters.directory_copies import DirectoryUnitOfWork
from services.placements.application import directory
from services.placements.application.runs import MatchingRunner, execute_run
from services.placements.entrypoints import api
from services.placements.entrypoints.context import PLACEMENTS, PlacementsContext
from services.placements.settings import PlacementsSettings
from shared.events import catalogue  # noqa: F401  (registers every payload schema)
from shared.http.app import DATABASE, MESSAGING, consume_revocations, create_service_app
from shared.uow import UnitOfWork

MIGRATIONS = Path(__file__).parent / "migrations"
PRODUCER = "placements"


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

        def unit_of_work() -> UnitOfWork:
            return UnitOfWork(db, producer=PRODUCER, on_commit=messaging.relay.wake)

        async def execute(run_id: str) -> None:
            await execute_run(db, unit_of_work, run_id)

        runner = MatchingRunner(execute)
        app[PLACEMENTS] = PlacementsContext(settings, db, unit_of_work, runner)

        async def finish_runs(_app: web.Application) -> None:
            await runner.shutdown()

        app.on_shutdown.append(finish_runs)

    return create_service_app(
        settings,
        spec=api.spec,
        routes=list(api.ROUTES),
        migrations=MIGRATIONS,
        wire=wire,
        translate_error=api.translate_placements_error,
    )
