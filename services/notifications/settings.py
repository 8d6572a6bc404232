"""Notifications' settings: the shared ones, and the outside systems it sends through.

Development and tests default to the local fakes (a Twilio-speaking SMS server and an SMTP
sink on loopback, see `devtools/`); production refuses them and needs real Twilio and SMTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import ClassVar

from shared.settings import ConfigError, Settings, _bool, env

DEV_TWILIO_URL = "http://127.0.0.1:8093"
DEV_ACCOUNT_SID = "AC00000000000000000000000000000000"
DEV_AUTH_TOKEN = "signpost-development-token"
DEV_SMTP_PORT = 8025
DEV_SENDER = "+447700900000"  # a number Ofcom keeps for drama, never a real phone


def _time(raw: str) -> str:
    """An HH:MM time of day, checked when the settings are read."""
    try:
        return time.fromisoformat(raw).strftime("%H:%M")
    except ValueError:
        raise ValueError(f"expected a time of day as HH:MM, got {raw!r}") from None


@dataclass(frozen=True)
class NotificationsSettings(Settings):
    service: ClassVar[str] = "notifications"

    twilio_account_sid: str = env("TWILIO_ACCOUNT_SID", default=DEV_ACCOUNT_SID)
    twilio_auth_token: str = env("TWILIO_AUTH_TOKEN", default=DEV_AUTH_TOKEN, secret=True)
    twilio_from: str = env("TWILIO_FROM", default=DEV_SENDER)
    # Points the SDK at the local fake provider (the default outside production); production
    # leaves it unset and so talks to Twilio itself.
    twilio_api_base_url: str = env("TWILIO_API_BASE_URL", default="")
    smtp_host: str = env("SMTP_HOST", default="")  # the local sink outside production
    smtp_port: int = env("SMTP_PORT", default=DEV_SMTP_PORT, parse=int)
    smtp_username: str = env("SMTP_USERNAME", default="")
    smtp_password: str = env("SMTP_PASSWORD", default="", secret=True)
    smtp_starttls: bool = env("SMTP_STARTTLS", default=False, parse=_bool)
    mail_from: str = env("MAIL_FROM", default="careers@signpost.example")
    # Europe/London local times; in between nothing is sent.
    quiet_hours_start: str = env("QUIET_HOURS_START", default="20:00", parse=_time)
    quiet_hours_end: str = env("QUIET_HOURS_END", default="08:00", parse=_time)
    dispatch_seconds: float = env("DISPATCH_SECONDS", default=5.0, parse=float)
    dispatch_batch: int = env("DISPATCH_BATCH", default=100, parse=int)
    dispatch_lease_seconds: int = env("DISPATCH_LEASE_SECONDS", default=120, parse=int)
    sms_per_second: float = env("SMS_PER_SECOND", default=100.0, parse=float)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.twilio_api_base_url and not self.is_production:
            object.__setattr__(self, "twilio_api_base_url", DEV_TWILIO_URL)
        if not self.smtp_host and not self.is_production:
            object.__setattr__(self, "smtp_host", "127.0.0.1")

    @property
    def callback_url(self) -> str:
        """The address Twilio calls back (`NOTIFICATIONS_PUBLIC_URL`, else where this listens);
        it is part of every webhook signature."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def quiet_starts(self) -> time:
        return time.fromisoformat(self.quiet_hours_start)

    @property
    def quiet_ends(self) -> time:
        return time.fromisoformat(self.quiet_hours_end)

    def validate(self) -> None:
        super().validate()
        if not 1 <= self.dispatch_batch <= 1000:
            raise ConfigError("DISPATCH_BATCH must be between 1 and 1000")
        if self.dispatch_lease_seconds < 10:
            raise ConfigError("DISPATCH_LEASE_SECONDS must be at least 10")
        if self.sms_per_second <= 0:
            raise ConfigError("SMS_PER_SECOND must be positive")

    def refuse_fakes_in_production(self) -> None:
        """Production sends through real Twilio and a real mail relay, never the local fakes
        (checked when the service starts, so migrations and the CLI do not need them)."""
        if not self.is_production:
            return
        if self.twilio_api_base_url:
            raise ConfigError(
                "production sends through Twilio itself: unset TWILIO_API_BASE_URL "
                "(it points the SDK at the development fake)"
            )
        if self.twilio_account_sid == DEV_ACCOUNT_SID or self.twilio_auth_token == (DEV_AUTH_TOKEN):
            raise ConfigError("production needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        if self.twilio_from == DEV_SENDER:
            raise ConfigError("production needs TWILIO_FROM, the number messages come from")
        if not self.smtp_host or self.smtp_port == DEV_SMTP_PORT:
            raise ConfigError("production needs SMTP_HOST and SMTP_PORT of a real mail relay")
        if not self.callback_url.startswith("https://"):
            raise ConfigError(
                "production needs NOTIFICATIONS_PUBLIC_URL, the https address Twilio "
                "calls back (it is part of every webhook signature)"
            )
