"""Settings come from the environment, with safe defaults and refusals in production."""

from __future__ import annotations

import pytest

from services.booking.settings import BookingSettings
from services.notifications.settings import NotificationsSettings
from shared.settings import ConfigError


def test_development_defaults_need_no_configuration() -> None:
    settings = NotificationsSettings.from_env({})
    assert settings.port == 8083
    assert settings.database_url == "sqlite+aiosqlite:///var/notifications.db"
    assert settings.should_migrate_on_start


def test_a_service_database_url_wins_over_the_generic_one() -> None:
    env = {
        "DATABASE_URL": "postgresql+asyncpg://db/generic",
        "BOOKING_DATABASE_URL": "postgresql+asyncpg://db/booking",
    }
    assert BookingSettings.from_env(env).database_url.endswith("/booking")
    assert NotificationsSettings.from_env(env).database_url.endswith("/generic")


def test_production_refuses_to_start_on_development_defaults() -> None:
    with pytest.raises(ConfigError, match="PostgreSQL"):
        NotificationsSettings.from_env({"SIGNPOST_ENV": "production"})
    with pytest.raises(ConfigError, match="JWT_PUBLIC_KEY"):
        NotificationsSettings.from_env(
            {"SIGNPOST_ENV": "production", "DATABASE_URL": "postgresql+asyncpg://db/n"}
        )
    with pytest.raises(ConfigError, match="JWT_PRIVATE_KEY"):
        BookingSettings.from_env(
            {
                "SIGNPOST_ENV": "production",
                "DATABASE_URL": "postgresql+asyncpg://db/b",
                "JWT_PUBLIC_KEY": "x",
                "KAFKA_REPLICATION_FACTOR": "3",
            }
        )


PRODUCTION = {
    "SIGNPOST_ENV": "production",
    "DATABASE_URL": "postgresql+asyncpg://db/n",
    "JWT_PUBLIC_KEY": "x",
}


def test_production_refuses_topics_with_a_single_replica_unless_that_is_meant() -> None:
    with pytest.raises(ConfigError, match="KAFKA_REPLICATION_FACTOR"):
        NotificationsSettings.from_env(PRODUCTION)
    replicated = NotificationsSettings.from_env({**PRODUCTION, "KAFKA_REPLICATION_FACTOR": "3"})
    assert replicated.kafka_replication_factor == 3
    single = NotificationsSettings.from_env({**PRODUCTION, "KAFKA_ALLOW_SINGLE_REPLICA": "true"})
    assert single.kafka_replication_factor == 1
    # Development keeps one copy on the local broker without being asked.
    assert NotificationsSettings.from_env({}).kafka_replication_factor == 1


def test_the_idempotent_producer_is_on_unless_turned_off() -> None:
    assert NotificationsSettings.from_env({}).kafka_enable_idempotence
    off = NotificationsSettings.from_env({"KAFKA_ENABLE_IDEMPOTENCE": "false"})
    assert not off.kafka_enable_idempotence


def test_production_does_not_migrate_at_start_unless_asked() -> None:
    env = {**PRODUCTION, "KAFKA_ALLOW_SINGLE_REPLICA": "true"}
    assert not NotificationsSettings.from_env(env).should_migrate_on_start
    assert NotificationsSettings.from_env(
        {**env, "MIGRATE_ON_START": "true"}
    ).should_migrate_on_start


@pytest.mark.parametrize(
    "name, value",
    [
        ("HTTP_PORT", "eighty"),
        ("SIGNPOST_ENV", "staging"),
        ("MIGRATE_ON_START", "perhaps"),
        ("DATABASE_POOL_SIZE", "0"),
        ("DATABASE_POOL_SIZE", "lots"),
        ("KAFKA_TOPIC_PARTITIONS", "0"),
        ("KAFKA_REPLICATION_FACTOR", "three"),
        ("KAFKA_ENABLE_IDEMPOTENCE", "maybe"),
    ],
)
def test_malformed_values_are_named(name: str, value: str) -> None:
    with pytest.raises(ConfigError):
        NotificationsSettings.from_env({name: value})


def test_known_variables_include_the_service_specific_names() -> None:
    known = BookingSettings.known_env_vars()
    assert {"BOOKING_DATABASE_URL", "DATABASE_URL", "JWT_PRIVATE_KEY_FILE"} <= known
    assert "JWT_PRIVATE_KEY_FILE" not in NotificationsSettings.known_env_vars()


def test_secrets_never_appear_when_settings_are_printed() -> None:
    settings = BookingSettings.from_env(
        {
            "DATABASE_URL": "postgresql+asyncpg://signpost:hunter2@db/booking",
            "JWT_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----secret",
        }
    )
    printed = repr(settings)
    assert "hunter2" not in printed and "secret" not in printed
