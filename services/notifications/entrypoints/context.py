"""What notifications' handlers get from the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from services.notifications.adapters.uow import NotificationsStorage
from services.notifications.application.dispatch import Dispatcher
from services.notifications.settings import NotificationsSettings
from shared.db import Database


@dataclass(frozen=True)
class NotificationsContext:
    db: Database
    storage: NotificationsStorage
    settings: NotificationsSettings
    dispatcher: Dispatcher
    clock: Callable[[], datetime]


NOTIFICATIONS = web.AppKey("notifications", NotificationsContext)
