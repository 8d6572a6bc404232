"""Revisions for what placements announces about allocations (`shared/events/revision.py`).

Events about a student are keyed by the student and carry one counter per round, running on
across a withdrawal and the re-match after it; an employer's list has its own per round. Each
is raised by the one statement that reads it (`RevisionCounters` in the adapters), so
concurrent requests never share a value. (An employer's own revision lives on its row and
is raised by the upsert that changes it.)
"""

from __future__ import annotations

STUDENT, EMPLOYER = "student", "employer"
