"""Who is told by which channel, when an "at once" message may go, and the Friday reminder."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.notifications.application.preferences import keyword
from services.notifications.domain.messages import (
    EMAIL,
    RULES,
    SMS,
    Kind,
    Route,
    assign_variant,
    at_once,
    choose_channel,
    friday_before,
    validity_seconds,
)
from services.notifications.domain.reminders import ReminderPolicy
from services.notifications.settings import NotificationsSettings
from shared.settings import ConfigError

LONDON = ZoneInfo("Europe/London")
BOTH = Route("student", "+447700900123", "a@b.example", True, True, ("email",))


def test_the_preferred_consented_channel_is_chosen() -> None:
    assert choose_channel(RULES[Kind.CONFIRMATION], BOTH) == EMAIL
    assert choose_channel(RULES[Kind.CONFIRMATION], BOTH, chosen=SMS) == SMS
    assert choose_channel(RULES[Kind.REMINDER_SAME_DAY], BOTH) == SMS  # SMS only


def test_no_channel_without_consent_or_once_a_route_is_known_to_fail() -> None:
    no_consent = replace(BOTH, sms_consent=False, email_consent=False)
    assert choose_channel(RULES[Kind.CONFIRMATION], no_consent) is None
    failing = replace(BOTH, email_undeliverable=True)
    assert choose_channel(RULES[Kind.CONFIRMATION], failing) == SMS
    assert choose_channel(RULES[Kind.NO_SHOW_COORDINATOR], failing) is None


def test_variant_assignment_is_stable_and_uses_both_wordings() -> None:
    rule = RULES[Kind.REMINDER_DAY_BEFORE]
    assert assign_variant(rule, "x") == assign_variant(rule, "x")
    assert {assign_variant(rule, str(n)) for n in range(50)} == {"a", "b"}


def test_an_at_once_message_at_night_waits_for_morning_unless_that_is_too_late() -> None:
    night = datetime(2027, 1, 12, 22, 0, tzinfo=LONDON)
    morning = datetime(2027, 1, 13, 8, 0, tzinfo=LONDON)
    assert at_once(night, morning + timedelta(hours=1), LONDON, ReminderPolicy()) == morning
    assert at_once(night, morning, LONDON, ReminderPolicy()) is None


def test_quiet_hours_are_configurable() -> None:
    late = ReminderPolicy(quiet_starts=datetime.min.time().replace(hour=21))
    evening = datetime(2027, 1, 12, 20, 30, tzinfo=LONDON)
    assert at_once(evening, evening + timedelta(hours=2), LONDON, late) == evening


@pytest.mark.parametrize(
    "week, friday", [(date(2027, 6, 14), date(2027, 6, 11)), (date(2027, 3, 29), date(2027, 3, 26))]
)
def test_a_placement_starting_monday_is_reminded_on_friday_afternoon(
    week: date, friday: date
) -> None:
    due = friday_before(week, LONDON)
    assert due.date() == friday and due.hour == 16


def test_the_validity_period_is_the_time_left_within_twilios_bounds() -> None:
    now = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)
    assert validity_seconds(now, now + timedelta(minutes=10)) == 600
    assert validity_seconds(now, now + timedelta(days=2)) == 36000
    assert validity_seconds(now, now - timedelta(minutes=1)) == 1


PRODUCTION = {
    "SIGNPOST_ENV": "production",
    "DATABASE_URL": "postgresql+asyncpg://db/n",
    "JWT_PUBLIC_KEY": "x",
    "KAFKA_ALLOW_SINGLE_REPLICA": "true",
}
REAL = {
    "TWILIO_ACCOUNT_SID": "AC" + "2" * 32,
    "TWILIO_AUTH_TOKEN": "real-token",
    "TWILIO_FROM": "+447700900555",
    "SMTP_HOST": "smtp.example.org",
    "SMTP_PORT": "587",
    "NOTIFICATIONS_PUBLIC_URL": "https://notify.example.org",
}


@pytest.mark.parametrize(
    "change, complaint",
    [
        ({"TWILIO_API_BASE_URL": "http://127.0.0.1:8093"}, "TWILIO_API_BASE_URL"),
        ({"TWILIO_AUTH_TOKEN": ""}, "TWILIO_AUTH_TOKEN"),
        ({"TWILIO_FROM": ""}, "TWILIO_FROM"),
        ({"SMTP_HOST": ""}, "SMTP_HOST"),
        ({"SMTP_PORT": "8025"}, "SMTP_HOST"),
        ({"NOTIFICATIONS_PUBLIC_URL": "http://notify.example.org"}, "NOTIFICATIONS_PUBLIC_URL"),
    ],
)
def test_production_refuses_to_start_with_the_fake_endpoints(
    change: dict[str, str], complaint: str
) -> None:
    NotificationsSettings.from_env({**PRODUCTION, **REAL}).refuse_fakes_in_production()
    settings = NotificationsSettings.from_env({**PRODUCTION, **REAL, **change})
    with pytest.raises(ConfigError, match=complaint):
        settings.refuse_fakes_in_production()


def test_a_malformed_quiet_hour_is_named() -> None:
    with pytest.raises(ConfigError, match="QUIET_HOURS_START"):
        NotificationsSettings.from_env({"QUIET_HOURS_START": "8pm"})


@pytest.mark.parametrize(
    "body, meaning",
    [
        ("STOP", "stop"),
        (" stop ", "stop"),
        ("Unsubscribe", "stop"),
        ("stop all", "stop"),
        ("START", "start"),
        ("unstop", "start"),
        ("help", "help"),
        ("stop texting me about maths", None),
        ("Thanks!", None),
    ],
)
def test_inbound_replies_are_read_as_twilios_opt_out_words(body: str, meaning: str | None) -> None:
    assert keyword(body) == meaning
