"""Who rushes for what: the school, its students' and sessions' ids, and the week released."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

SCHOOL = "bench-school"
SLOTS_PER_ADVISER_WEEK = 50  # 08:30-15:30 in 40-minute interviews, Monday to Friday


def student_id(n: int) -> str:
    return f"bench-student-{n:06d}"


def session_id(n: int) -> str:
    return str(uuid.UUID(int=n + 1))


def released_week() -> date:
    """The Monday of next week: the week the school has just released."""
    today = date.today()
    return today + timedelta(days=7 - today.weekday())


def warm_up_size(n_clients: int) -> int:
    return 2 * n_clients
