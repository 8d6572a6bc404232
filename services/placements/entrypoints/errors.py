"""The use cases' failures as problem documents (the problems middleware's translator)."""

from __future__ import annotations

from services.placements.application.access import Forbidden
from services.placements.application.errors import Conflict, Invalid, NotFound, PlacementsError
from shared.http.problems import Problem, conflict, forbidden


def translate_placements_error(error: Exception) -> Problem | None:
    """The shared problems middleware's translator: the use cases' failures as problems."""
    if isinstance(error, NotFound):
        return Problem(404, "Not found", error.message, type_=error.kind)
    if isinstance(error, Forbidden):
        return forbidden(error.message)
    if isinstance(error, Invalid):
        return Problem(
            422,
            "Invalid request",
            f"{error.field}: {error.message}",
            type_=error.kind,
            errors=[{"field": error.field, "message": error.message}],
        )
    if isinstance(error, Conflict):
        return conflict(error.message, type_=error.kind)
    if isinstance(error, PlacementsError):
        return Problem(400, "Bad request", error.message, type_=error.kind)
    return None
