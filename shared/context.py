"""Request-scoped identifiers carried through HTTP handlers, events and logs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import structlog

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)
causation_id_var: ContextVar[str | None] = ContextVar("causation_id", default=None)


def new_id() -> str:
    return str(uuid.uuid4())


@contextmanager
def correlation_scope(correlation_id: str, causation_id: str | None = None) -> Iterator[None]:
    """Within this block, new events and log lines carry these ids."""
    tokens = (correlation_id_var.set(correlation_id), causation_id_var.set(causation_id))
    with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
        try:
            yield
        finally:
            correlation_id_var.reset(tokens[0])
            causation_id_var.reset(tokens[1])
