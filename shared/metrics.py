"""Prometheus metrics shared by every service (labelled by service or consumer)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "signpost_http_requests_total", "HTTP requests served", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "signpost_http_request_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5),
)
OUTBOX_PUBLISHED = Counter(
    "signpost_outbox_published_total", "Events published from the outbox", ["service"]
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "signpost_outbox_publish_failures_total", "Failed outbox publish attempts", ["service"]
)
OUTBOX_PENDING = Gauge(
    "signpost_outbox_pending", "Outbox rows waiting to be published (not parked)", ["service"]
)
OUTBOX_OLDEST_PENDING = Gauge(
    "signpost_outbox_oldest_pending_seconds",
    "Age of the oldest outbox row waiting to be published (0 when none)",
    ["service"],
)
OUTBOX_FAILED = Gauge(
    "signpost_outbox_failed", "Outbox rows parked after the broker refused them", ["service"]
)
MESSAGING_PURGED = Counter(
    "signpost_messaging_purged_total",
    "Published outbox rows and inbox rows deleted once past retention",
    ["service", "table"],
)
EVENTS_CONSUMED = Counter(
    "signpost_events_consumed_total",
    "Events taken from Kafka by a consumer",
    ["consumer", "event_type", "outcome"],
)
DEAD_LETTERS = Counter(
    "signpost_dead_letters_total", "Events sent to a dead-letter topic", ["consumer"]
)
CONSUMER_LAG = Gauge(
    "signpost_consumer_lag",
    "Records on a partition not yet consumed (highwater - position)",
    ["consumer", "topic", "partition"],
)
CONSUMER_PAUSED = Gauge(
    "signpost_consumer_paused_partitions",
    "Partitions paused at an event of a newer schema version than this build knows",
    ["consumer", "topic"],
)
CONSUMER_RESTARTS = Counter(
    "signpost_consumer_restarts_total",
    "Times a consumer reconnected to the broker after an error",
    ["consumer"],
)
