"""Booking's settings: the shared ones plus what the identity issuer needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shared.settings import IssuerSettings


@dataclass(frozen=True)
class BookingSettings(IssuerSettings):
    service: ClassVar[str] = "booking"
