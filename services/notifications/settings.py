"""Notifications' settings: the shared ones (outside systems come with their adapters)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shared.settings import Settings


@dataclass(frozen=True)
class NotificationsSettings(Settings):
    service: ClassVar[str] = "notifications"
