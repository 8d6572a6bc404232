"""The app factory every service builds on, and the operational routes.

`create_service_app` wires the common middlewares and the resources a service needs
(database, messaging, token verifier) through `cleanup_ctx`, so they open at start-up and
close on shutdown after in-flight requests finish.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shared.auth.revocations import RevokedSessions
from shared.auth.tokens import TokenVerifier
from shared.db import Database
from shared.events.envelope import topic_for
from shared.events.identity import SessionRevoked
from shared.http.body import json_response
from shared.http.middleware import (
    ErrorTranslator,
    authentication,
    metrics_middleware,
    problems_middleware,
    request_context,
)
from shared.http.openapi import ApiSpec
from shared.http.site import SITE, Site
from shared.logging import configure_logging, get_logger
from shared.messaging.kafka import TopicSetupError
from shared.messaging.maintenance import purge_logged
from shared.messaging.runtime import Messaging
from shared.migrations import upgrade
from shared.scheduling import Job, scheduled
from shared.settings import Settings
from shared.uow import UnitOfWork

log = get_logger(__name__)

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
MESSAGING = web.AppKey("messaging", Messaging)
VERIFIER = web.AppKey("verifier", TokenVerifier)
REVOKED = web.AppKey("revoked", RevokedSessions)
SPEC = web.AppKey("spec", ApiSpec)

Wiring = Callable[[web.Application], None]
S = TypeVar("S", bound=Settings)


def create_service_app(
    settings: Settings,
    *,
    spec: ApiSpec,
    routes: Sequence[Iterable[web.AbstractRouteDef]],
    migrations: Path,
    wire: Wiring | None = None,
    middlewares: Sequence[Middleware] = (),
    translate_error: ErrorTranslator | None = None,
    jobs: Sequence[Job] = (),
) -> web.Application:
    """Build a service's aiohttp application.

    `wire(app)` is called once the database and messaging objects exist (before anything
    connects) so the service can register consumers (among them the revocations' handler,
    `app[REVOKED].record`) and put its own context on the app.
    `translate_error` turns the service's domain errors into problem documents. `jobs` run
    on a schedule beside the messaging retention purge, and finish before the database closes.
    """
    verifier = TokenVerifier(settings.public_key_pem(), issuer=settings.token_issuer)
    # Engines connect lazily: nothing opens here.
    db = Database(settings.database_url, pool_size=settings.database_pool_size)
    revoked = RevokedSessions(db, clock=lambda: datetime.now(UTC), monotonic=time.monotonic)
    app = web.Application(
        middlewares=[
            request_context,
            metrics_middleware(settings.service),
            problems_middleware(translate_error),
            authentication(verifier, public_origin=settings.public_url, revoked=revoked),
            *middlewares,
        ],
        client_max_size=1 << 20,
    )
    app[SETTINGS] = settings
    app[VERIFIER] = verifier
    app[SPEC] = spec
    app[SITE] = Site(
        here=settings.service,
        booking=settings.site_url("booking"),
        placements=settings.site_url("placements"),
        notifications=settings.site_url("notifications"),
    )
    app[REVOKED] = revoked
    messaging = Messaging(settings, db)
    app[DATABASE] = db
    app[MESSAGING] = messaging
    if wire is not None:
        wire(app)

    async def resources(_app: web.Application) -> AsyncIterator[None]:
        if settings.should_migrate_on_start:
            await upgrade(db, migrations)
        await messaging.start()
        log.info("service.started", port=settings.port)
        try:
            yield
        finally:
            await messaging.stop()
            await db.dispose()
            log.info("service.stopped")

    app.cleanup_ctx.append(resources)
    app.cleanup_ctx.append(scheduled([purge_job(settings), *jobs]))
    app.router.add_routes(operational_routes())
    for table in routes:
        app.router.add_routes(table)
    return app


def consume_revocations(app: web.Application) -> None:
    """Register this service's consumer of `identity.session.revoked` (a group of its own, so
    each service keeps every revocation in its own `revoked_sessions`)."""
    db, service = app[DATABASE], app[SETTINGS].service
    app[MESSAGING].add_consumer(
        f"{service}.revocations",
        topics=[topic_for(SessionRevoked.event_type)],
        handlers={SessionRevoked.event_type: app[REVOKED].record},
        unit_of_work=lambda session: UnitOfWork(db, producer=service).within(session),
    )


def purge_job(settings: Settings) -> Job:
    """Hourly, first a minute after start: published outbox rows and inbox rows past
    `OUTBOX_RETENTION_DAYS` go."""
    retention = timedelta(days=settings.outbox_retention_days)

    async def purge_expired(app: web.Application) -> None:
        await purge_logged(app[DATABASE], settings.service, retention)

    return Job("messaging-retention", purge_expired, seconds=3600, first_after=60)


def operational_routes() -> web.RouteTableDef:
    routes = web.RouteTableDef()

    @routes.get("/healthz")
    async def healthz(request: web.Request) -> web.Response:
        return json_response({"status": "ok", "service": request.app[SETTINGS].service})

    @routes.get("/readyz")
    async def readyz(request: web.Request) -> web.Response:
        messaging = request.app[MESSAGING]
        failed = messaging.failed_tasks()
        checks = {
            "database": await _database_ok(request.app[DATABASE]),
            "broker": "ok" if await messaging.broker_ok() else "unreachable",
            "messaging": f"stopped: {', '.join(failed)}" if failed else "ok",
        }
        ready = all(v == "ok" for v in checks.values())
        return json_response(
            {"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503
        )

    @routes.get("/metrics")
    async def metrics(_request: web.Request) -> web.Response:
        response = web.Response(body=generate_latest())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    @routes.get("/api/openapi.json")
    async def openapi(request: web.Request) -> web.Response:
        return json_response(request.app[SPEC].document())

    return routes


async def _database_ok(db: Database) -> str:
    try:
        await db.ping()
    except Exception as exc:
        log.warning("readyz.database_unreachable", error=type(exc).__name__)
        return "unreachable"
    return "ok"


def run(
    app: web.Application,
    settings: Settings,
    *,
    reuse_port: bool = False,
    on_listening: Callable[[], None] | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM, then finish in-flight requests and background work.

    `reuse_port` lets several processes share the port; `on_listening` is called once the
    port accepts connections.
    """
    try:
        web.run_app(
            app,
            host=settings.host,
            port=settings.port,
            access_log=None,
            shutdown_timeout=10,
            # aiohttp calls `print` once every site is listening.
            print=(lambda *_: on_listening()) if on_listening is not None else None,
            reuse_port=reuse_port,
            loop=new_event_loop(),
        )
    except TopicSetupError as exc:
        log.error("service.start_refused", detail=str(exc))
        raise SystemExit(f"{settings.service} cannot start: {exc}") from None


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (Linux and macOS), else asyncio's own loop.

    The services spend much of their time in socket calls to the database, the broker and
    clients; uvloop's transports make each of those cheaper.
    """
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def serve(settings_type: type[S], factory: Callable[[S], web.Application]) -> None:
    """The body of each service's `__main__`: settings from the environment, logs, serve."""
    settings = settings_type.from_env()
    configure_logging(settings.service, settings.log_level)
    run(factory(settings), settings)
