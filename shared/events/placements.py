"""Events placements publishes on `placements.events` about work-experience allocations."""

from __future__ import annotations
