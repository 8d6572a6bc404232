"""Placements' pages: EBP staff run their partnership's rounds, students choose their work
experience. Every page lives under `/placements/` (a reverse proxy sends that prefix here)
and signs in with booking's session cookie.

Each area has its own module over the same application functions as the JSON API, so the
rules are the same whichever way someone comes: `pages_ebp` (employers, vetting, the CSV
import), `pages_rounds` (rounds, pins, withdrawals, clearing), `pages_runs` (matching runs,
their progress, results, comparison, publication) and `pages_student` (a student's choices
and placement).
"""

from __future__ import annotations

from services.placements.entrypoints import (
    pages_common,
    pages_ebp,
    pages_rounds,
    pages_runs,
    pages_student,
)

ROUTES = (
    pages_common.routes,
    pages_ebp.routes,
    pages_rounds.routes,
    pages_runs.routes,
    pages_student.routes,
)
