"""Load the demo county into each service's own database (development only)."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable

import sqlalchemy as sa

from services.booking import demo as booking_demo
from services.booking.demo import DEMO_LOGINS
from services.booking.demo_live import refresh as refresh_booking_demo
from services.placements import demo as placements_demo
from services.placements import demo_round
from services.registry import entries
from shared.db import Database
from shared.messaging.tables import outbox
from shared.migrations import database_for_task


async def seed_all() -> int:
    loaders: dict[str, Callable[[Database], Awaitable[bool]]] = {
        "booking": booking_demo.seed,
        "placements": placements_demo.seed,
    }
    announced: list[str] = []
    for entry in entries().values():
        settings = entry.settings_type.from_env()
        if settings.is_production:
            print("refusing to load demo data into a production system", file=sys.stderr)
            return 2
        loader = loaders.get(entry.name)
        async with database_for_task(settings.database_url, entry.migrations) as db:
            if loader is not None:
                loaded = await loader(db)
                if entry.name == "booking":
                    if loaded:  # a first start: placements' demo round needs the directory
                        announced = await _directory_events(db)
                    else:
                        await refresh_booking_demo(db)  # today's drop-in queue, whatever the day
                if entry.name == "placements" and announced:
                    # Placements learns the directory from booking's events; the demo round
                    # needs the students now, before the services start and consume them.
                    await demo_round.load_directory(db, announced)
                    if await demo_round.seed_round(db):
                        print("placements: demo round and matching run loaded", file=sys.stderr)
                print(
                    f"{entry.name}: {'demo data loaded' if loaded else 'already has data'}",
                    file=sys.stderr,
                )
    return 0


async def _directory_events(db: Database) -> list[str]:
    """What booking has announced about the directory, oldest first."""
    async with db.read_session() as s:
        rows = await s.execute(
            sa.select(outbox.c.body)
            .where(outbox.c.topic == "directory.events")
            .order_by(outbox.c.seq)
        )
        return [r.body for r in rows]


def describe_logins() -> str:
    lines = [
        f"  {login.role.value:<12} {login.email:<38} {login.password}  ({login.note})"
        for login in DEMO_LOGINS
    ]
    return "\n".join(lines)
