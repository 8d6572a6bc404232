"""Placements' HTTP API (JSON): one route module per resource. Paths under /api/v1 are the
public contract.

EBP staff manage their own partnership's rounds (an admin any round); a coordinator reads their
school's part of a round; a student reads and writes only their own preferences and sees only
their own allocation.
"""

from __future__ import annotations

from services.placements.entrypoints import (
    allocations_api,
    pins_api,
    preferences_api,
    rounds_api,
    runs_api,
    self_found_api,
    vetting_api,
)
from services.placements.entrypoints.errors import translate_placements_error
from services.placements.entrypoints.spec import spec

ROUTES = (
    rounds_api.routes,
    preferences_api.routes,
    self_found_api.routes,
    pins_api.routes,
    runs_api.routes,
    allocations_api.routes,
    vetting_api.routes,
)

__all__ = ["ROUTES", "spec", "translate_placements_error"]
