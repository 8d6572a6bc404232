"""End-to-end tests start the services as processes, with consumer groups of their own names.

On the session's shared broker those groups would first read every event the earlier tests
published, so each module here gets a fresh local broker of its own (or the external one,
when KAFKA_BOOTSTRAP_SERVERS names it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from shared.devbroker import LocalBroker


@pytest.fixture(scope="module")
def broker() -> Iterator[str]:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    os.environ.setdefault("KAFKA_ENABLE_IDEMPOTENCE", "false")
    local = LocalBroker()
    try:
        yield local.start()
    finally:
        local.stop()
