"""Booking's settings: the shared ones, the identity issuer's, the waitlist's timings, and
the limits on fetching PAs' own calendars."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shared.settings import ConfigError, IssuerSettings, _bool, env


@dataclass(frozen=True)
class BookingSettings(IssuerSettings):
    service: ClassVar[str] = "booking"

    waitlist_offer_seconds: int = env("WAITLIST_OFFER_SECONDS", default=4 * 3600, parse=int)
    waitlist_sweep_seconds: float = env("WAITLIST_SWEEP_SECONDS", default=30.0, parse=float)
    workers: int = env("BOOKING_WORKERS", default=1, parse=int)
    calendar_import_seconds: float = env("CALENDAR_IMPORT_SECONDS", default=60.0, parse=float)
    calendar_refresh_seconds: int = env("CALENDAR_REFRESH_SECONDS", default=3600, parse=int)
    calendar_fetch_timeout_seconds: float = env(
        "CALENDAR_FETCH_TIMEOUT_SECONDS", default=10.0, parse=float
    )
    calendar_max_bytes: int = env("CALENDAR_MAX_BYTES", default=2_000_000, parse=int)
    # Loopback, private and link-local addresses, for development and tests only.
    calendar_allow_private: bool = env(
        "CALENDAR_ALLOW_PRIVATE_ADDRESSES", default=False, parse=_bool
    )

    def validate(self) -> None:
        super().validate()
        if self.waitlist_offer_seconds <= 0:
            raise ConfigError("WAITLIST_OFFER_SECONDS must be positive")
        if self.waitlist_sweep_seconds <= 0:
            raise ConfigError("WAITLIST_SWEEP_SECONDS must be positive")
        if self.calendar_import_seconds <= 0 or self.calendar_fetch_timeout_seconds <= 0:
            raise ConfigError(
                "CALENDAR_IMPORT_SECONDS and CALENDAR_FETCH_TIMEOUT_SECONDS must be positive"
            )
        if self.calendar_refresh_seconds < 60:
            raise ConfigError("CALENDAR_REFRESH_SECONDS must be at least 60")
        if not 1_000 <= self.calendar_max_bytes <= 50_000_000:
            raise ConfigError("CALENDAR_MAX_BYTES must be between 1000 and 50000000")
        if self.calendar_allow_private and self.is_production:
            raise ConfigError("CALENDAR_ALLOW_PRIVATE_ADDRESSES is refused in production")
        if not 1 <= self.workers <= 16:
            raise ConfigError("BOOKING_WORKERS must be between 1 and 16")
        if self.workers > 1 and self.database_url.startswith("sqlite"):
            raise ConfigError("BOOKING_WORKERS above 1 needs PostgreSQL (SQLite has one writer)")
