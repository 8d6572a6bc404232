"""Notifications' Prometheus metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_SENT = Counter(
    "signpost_messages_sent_total", "Messages handed to a provider", ["channel", "kind"]
)
MESSAGES_DELIVERED = Counter(
    "signpost_messages_delivered_total",
    "Messages the provider reported delivered",
    ["channel", "kind"],
)
MESSAGES_FAILED = Counter(
    "signpost_messages_failed_total",
    "Messages that failed (permanently, or after every retry)",
    ["channel", "kind"],
)
DISPATCH_LAG = Histogram(
    "signpost_message_dispatch_lag_seconds",
    "From a message's due time to its hand-over to the provider",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
MESSAGES_PENDING = Gauge("signpost_messages_pending", "Messages waiting to be sent")
