"""Configuration from environment variables, one settings object per service.

Every value has a safe development default, so `make run` needs no configuration.
In production (`SIGNPOST_ENV=production`) the defaults that would be unsafe (generated
signing keys, SQLite files) are refused and the process will not start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Self

ENVIRONMENTS = ("development", "test", "production")
DEFAULT_PORTS = {"booking": 8081, "placements": 8082, "notifications": 8083}


class ConfigError(ValueError):
    """A setting is missing, malformed or unsafe for the environment."""


@dataclass(frozen=True)
class Env:
    """Describes where one setting comes from: its variable(s), default and parser."""

    names: tuple[str, ...]
    default: Any = None
    parse: Any = str
    secret: bool = False


def env(*names: str, default: Any = None, parse: Any = str, secret: bool = False) -> Any:
    """Declare a settings field read from the first of `names` that is set.

    A secret is left out of the settings' repr, so printing or logging settings cannot leak it.
    """
    return field(metadata={"env": Env(names, default, parse, secret)}, repr=not secret)


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


def _is_http_url(value: str) -> bool:
    scheme, sep, rest = value.partition("://")
    return scheme in ("http", "https") and bool(sep) and bool(rest.split("/", 1)[0])


def _read_key(inline: str | None, path: str | None) -> str | None:
    if inline:
        return inline.replace("\\n", "\n")
    if path:
        try:
            return Path(path).read_text()
        except OSError as exc:
            raise ConfigError(f"cannot read key file {path}: {exc.strerror}") from exc
    return None


@dataclass(frozen=True)
class Settings:
    """Settings every service shares. Subclasses add their own fields with `env(...)`.

    `{SERVICE}_DATABASE_URL` (e.g. `BOOKING_DATABASE_URL`) wins over `DATABASE_URL`, so one
    shell can configure all three services while a container sets plain `DATABASE_URL`.
    """

    service: ClassVar[str] = "service"

    environment: str = env("SIGNPOST_ENV", default="development")
    host: str = env("HTTP_HOST", default="127.0.0.1")
    # Where people reach the service (scheme, host, port), when a proxy in front of it ends
    # TLS or changes the host: cookie-authenticated changes must come from this origin.
    public_url: str | None = env("{SERVICE}_PUBLIC_URL", "PUBLIC_URL", default=None)
    # Where people reach each service's pages, for links across the site: in production one
    # origin in front of all three (PUBLIC_URL); by default each on this host at its own port.
    booking_public_url: str | None = env("BOOKING_PUBLIC_URL", "PUBLIC_URL", default=None)
    placements_public_url: str | None = env("PLACEMENTS_PUBLIC_URL", "PUBLIC_URL", default=None)
    notifications_public_url: str | None = env(
        "NOTIFICATIONS_PUBLIC_URL", "PUBLIC_URL", default=None
    )
    port: int = env("{SERVICE}_HTTP_PORT", "HTTP_PORT", default=None, parse=int)
    database_url: str = env("{SERVICE}_DATABASE_URL", "DATABASE_URL", default=None, secret=True)
    # Connections each process keeps open to PostgreSQL (and as many more at a peak). Fewer
    # than one might think is fastest: the database does best with a few busy connections
    # per core of its own, and every process (and replica) brings its own pool.
    database_pool_size: int = env("DATABASE_POOL_SIZE", default=5, parse=int)
    kafka_bootstrap_servers: str = env("KAFKA_BOOTSTRAP_SERVERS", default="127.0.0.1:9092")
    kafka_session_timeout_ms: int = env("KAFKA_SESSION_TIMEOUT_MS", default=10000, parse=int)
    kafka_group_prefix: str = env("KAFKA_GROUP_PREFIX", default="")
    kafka_topic_partitions: int = env("KAFKA_TOPIC_PARTITIONS", default=3, parse=int)
    kafka_replication_factor: int = env("KAFKA_REPLICATION_FACTOR", default=1, parse=int)
    # One copy of each event is a lost event when that broker's disk goes: production must
    # ask for replicas, or say that a single-broker deployment is meant.
    kafka_allow_single_replica: bool = env("KAFKA_ALLOW_SINGLE_REPLICA", default=False, parse=_bool)
    # The idempotent producer stops a retried send from writing a record twice. Apache Kafka
    # has it; the local development broker does not, so `make run` and the tests turn it off.
    kafka_enable_idempotence: bool = env("KAFKA_ENABLE_IDEMPOTENCE", default=True, parse=_bool)
    outbox_poll_seconds: float = env("OUTBOX_POLL_SECONDS", default=0.5, parse=float)
    outbox_max_attempts: int = env("OUTBOX_MAX_ATTEMPTS", default=5, parse=int)
    outbox_retention_days: float = env("OUTBOX_RETENTION_DAYS", default=14, parse=float)
    jwt_public_key: str | None = env("JWT_PUBLIC_KEY", default=None, secret=True)
    jwt_public_key_file: str | None = env("JWT_PUBLIC_KEY_FILE", default=None)
    token_issuer: str = env("TOKEN_ISSUER", default="signpost-booking")
    log_level: str = env("LOG_LEVEL", default="INFO")
    migrate_on_start: bool | None = env("MIGRATE_ON_START", default=None, parse=_bool)
    data_dir: str = env("SIGNPOST_DATA_DIR", default="var")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Build settings from `environ` (default: the process environment) and validate."""
        source = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            spec: Env | None = f.metadata.get("env")
            if spec is None:
                continue
            values[f.name] = cls._lookup(spec, source)
        settings = cls(**values)
        settings.validate()
        return settings

    @classmethod
    def _lookup(cls, spec: Env, source: Mapping[str, str]) -> Any:
        for name in spec.names:
            raw = source.get(name.replace("{SERVICE}", cls.service.upper()))
            if raw is None or raw == "":
                continue
            try:
                return spec.parse(raw)
            except ValueError as exc:
                raise ConfigError(f"{name}: {exc}") from exc
        return spec.default

    @classmethod
    def known_env_vars(cls) -> frozenset[str]:
        """Every environment variable this service reads (used to check deployment files)."""
        names: set[str] = set()
        for f in fields(cls):
            spec: Env | None = f.metadata.get("env")
            if spec is not None:
                names.update(n.replace("{SERVICE}", cls.service.upper()) for n in spec.names)
        return frozenset(names)

    def __post_init__(self) -> None:
        if self.port is None:
            object.__setattr__(self, "port", DEFAULT_PORTS.get(self.service, 8080))
        if self.database_url is None:
            url = f"sqlite+aiosqlite:///{self.data_dir}/{self.service}.db"
            object.__setattr__(self, "database_url", url)

    def site_url(self, service: str) -> str:
        """The public URL of `service`'s pages: its `{SERVICE}_PUBLIC_URL`, else `PUBLIC_URL`,
        else this host at the service's default port (this service at its own port)."""
        configured: str | None = getattr(self, f"{service}_public_url")
        if configured:
            return configured.rstrip("/")
        if service == self.service and self.public_url:
            return self.public_url.rstrip("/")
        port = self.port if service == self.service else DEFAULT_PORTS[service]
        return f"http://{self.host}:{port}"

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def should_migrate_on_start(self) -> bool:
        """Development applies migrations at start; production runs `signpost migrate`."""
        if self.migrate_on_start is not None:
            return self.migrate_on_start
        return not self.is_production

    def validate(self) -> None:
        if self.environment not in ENVIRONMENTS:
            raise ConfigError(f"SIGNPOST_ENV must be one of {', '.join(ENVIRONMENTS)}")
        for name, url in (
            (f"{self.service.upper()}_PUBLIC_URL", self.public_url),
            ("BOOKING_PUBLIC_URL", self.booking_public_url),
            ("PLACEMENTS_PUBLIC_URL", self.placements_public_url),
            ("NOTIFICATIONS_PUBLIC_URL", self.notifications_public_url),
        ):
            if url is not None and not _is_http_url(url):
                raise ConfigError(
                    f"{name} must be an http(s) address such as https://signpost.example.org"
                )
        if not 1 <= self.database_pool_size <= 100:
            raise ConfigError("DATABASE_POOL_SIZE must be between 1 and 100")
        if not 1 <= self.kafka_topic_partitions <= 1000:
            raise ConfigError("KAFKA_TOPIC_PARTITIONS must be between 1 and 1000")
        if not 1 <= self.kafka_replication_factor <= 32:
            raise ConfigError("KAFKA_REPLICATION_FACTOR must be between 1 and 32")
        if self.outbox_max_attempts < 1:
            raise ConfigError("OUTBOX_MAX_ATTEMPTS must be at least 1")
        if self.outbox_retention_days <= 0:
            raise ConfigError("OUTBOX_RETENTION_DAYS must be more than 0")
        if self.is_production:
            if self.database_url.startswith("sqlite"):
                raise ConfigError("production needs DATABASE_URL pointing at PostgreSQL")
            if not (self.jwt_public_key or self.jwt_public_key_file):
                raise ConfigError("production needs JWT_PUBLIC_KEY or JWT_PUBLIC_KEY_FILE")
            if self.kafka_replication_factor == 1 and not self.kafka_allow_single_replica:
                raise ConfigError(
                    "production needs KAFKA_REPLICATION_FACTOR of 3 (or at least 2); for a "
                    "deliberate single-broker deployment set KAFKA_ALLOW_SINGLE_REPLICA=true"
                )

    def public_key_pem(self) -> str:
        """The PEM public key that verifies tokens, creating a development key if needed."""
        pem = _read_key(self.jwt_public_key, self.jwt_public_key_file)
        if pem is not None:
            return pem
        from shared.auth.keys import ensure_dev_keypair

        return ensure_dev_keypair(Path(self.data_dir) / "keys").public_pem


@dataclass(frozen=True)
class IssuerSettings(Settings):
    """Settings for the service that signs tokens (booking owns identity)."""

    jwt_private_key: str | None = env("JWT_PRIVATE_KEY", default=None, secret=True)
    jwt_private_key_file: str | None = env("JWT_PRIVATE_KEY_FILE", default=None)
    token_ttl_seconds: int = env("TOKEN_TTL_SECONDS", default=900, parse=int)
    session_ttl_seconds: int = env("SESSION_TTL_SECONDS", default=8 * 3600, parse=int)
    cookie_secure: bool = env("COOKIE_SECURE", default=False, parse=_bool)

    def validate(self) -> None:
        super().validate()
        if self.is_production:
            if not (self.jwt_private_key or self.jwt_private_key_file):
                raise ConfigError("production needs JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE")
            if not self.cookie_secure:
                raise ConfigError("production needs COOKIE_SECURE=true")
        if self.token_ttl_seconds <= 0 or self.token_ttl_seconds > 3600:
            raise ConfigError("TOKEN_TTL_SECONDS must be between 1 and 3600")

    def private_key_pem(self) -> str:
        pem = _read_key(self.jwt_private_key, self.jwt_private_key_file)
        if pem is not None:
            return pem
        from shared.auth.keys import ensure_dev_keypair

        return ensure_dev_keypair(Path(self.data_dir) / "keys").private_pem
