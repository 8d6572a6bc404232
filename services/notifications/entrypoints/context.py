"""What notifications' handlers get from the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from shared.db import Database


@dataclass(frozen=True)
class NotificationsContext:
    db: Database


NOTIFICATIONS = web.AppKey("notifications", NotificationsContext)
