"""Booking's settings: the shared ones, the identity issuer's, and the waitlist's timings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shared.settings import ConfigError, IssuerSettings, env


@dataclass(frozen=True)
class BookingSettings(IssuerSettings):
    service: ClassVar[str] = "booking"

    waitlist_offer_seconds: int = env("WAITLIST_OFFER_SECONDS", default=4 * 3600, parse=int)
    waitlist_sweep_seconds: float = env("WAITLIST_SWEEP_SECONDS", default=30.0, parse=float)
    workers: int = env("BOOKING_WORKERS", default=1, parse=int)

    def validate(self) -> None:
        super().validate()
        if self.waitlist_offer_seconds <= 0:
            raise ConfigError("WAITLIST_OFFER_SECONDS must be positive")
        if self.waitlist_sweep_seconds <= 0:
            raise ConfigError("WAITLIST_SWEEP_SECONDS must be positive")
        if not 1 <= self.workers <= 16:
            raise ConfigError("BOOKING_WORKERS must be between 1 and 16")
        if self.workers > 1 and self.database_url.startswith("sqlite"):
            raise ConfigError("BOOKING_WORKERS above 1 needs PostgreSQL (SQLite has one writer)")
