"""The three services by name: settings type, app factory and migrations (for the CLI)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from shared.settings import Settings

SERVICES_DIR = Path(__file__).parent


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    settings_type: type[Settings]
    create_app: Callable[..., web.Application]

    @property
    def migrations(self) -> Path:
        return SERVICES_DIR / self.name / "migrations"


def entries() -> dict[str, ServiceEntry]:
    from services.booking.bootstrap import create_app as booking_app
    from services.booking.settings import BookingSettings
    from services.notifications.bootstrap import create_app as notifications_app
    from services.notifications.settings import NotificationsSettings
    from services.placements.bootstrap import create_app as placements_app
    from services.placements.settings import PlacementsSettings

    return {
        "booking": ServiceEntry("booking", BookingSettings, booking_app),
        "placements": ServiceEntry("placements", PlacementsSettings, placements_app),
        "notifications": ServiceEntry("notifications", NotificationsSettings, notifications_app),
    }
