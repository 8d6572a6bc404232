"""Failures a caller can cause, raised by use cases and turned into problems at the edge.

Each carries a short `kind` (a stable slug clients can switch on) and a message a person can
act on. Nothing has been written when one is raised.
"""

from __future__ import annotations


class PlacementsError(Exception):
    kind = "placements-error"

    def __init__(self, message: str, *, kind: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if kind is not None:
            self.kind = kind


class NotFound(PlacementsError):
    """The thing does not exist, or the caller may not know that it does."""

    kind = "not-found"


class Invalid(PlacementsError):
    """The request names something the round cannot use; `field` says which part."""

    kind = "validation"

    def __init__(self, field: str, message: str, *, kind: str | None = None) -> None:
        super().__init__(message, kind=kind)
        self.field = field


class Conflict(PlacementsError):
    """The request is well formed but the round's state does not allow it now."""

    kind = "conflict"
