"""The revision every directory and placements payload carries, so copies never go back.

The producer keeps a counter per record (a school, a student, an employer, a student's
allocation in a round) and raises it in the same transaction as each change it announces,
so a later change always has a higher revision. Events can arrive twice or out of order (a
batch republished after a partial failure reads e7, e5, e7), so a consumer keeping a copy
applies an event only when its revision is newer than the one it holds.

Events written before payloads carried a revision have none; they read as 0, older than any
real revision (a counter starts at 1), so they can still be applied to a copy that has no
revision either, as during a rolling deploy, and never overwrite one that has.
"""

from __future__ import annotations

from pydantic import Field

from shared.events.envelope import EventPayload


class RevisedPayload(EventPayload):
    revision: int = Field(default=0, ge=0)
