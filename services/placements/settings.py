"""Placements' settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shared.settings import Settings


@dataclass(frozen=True)
class PlacementsSettings(Settings):
    service: ClassVar[str] = "placements"
