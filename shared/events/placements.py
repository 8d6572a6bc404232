"""Events placements publishes on `placements.events` about work-experience allocations.

Notifications turns these into messages to students, schools and employers, so each event
carries the ids a message needs and nothing more: no names, no needs, no reasons beyond who
withdrew. Events about one student are keyed by the student id, so they stay in order
(published, confirmed, withdrawn, published again after a re-match); events about an
employer's list are keyed by the employer id.

Each carries a `revision` (`shared.events.revision`): an employer's counts changes to the
employer; a student allocation's counts every event about that student in that round, across
a withdrawal and the re-match that follows; an employer list's counts the lists announced
for that employer in that round.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from shared.events.revision import RevisedPayload


class EmployerUpserted(RevisedPayload):
    """The employer's one contact point, so notifications can reach them."""

    event_type = "placements.employer.upserted"

    employer_id: str
    contact_email: EmailStr | None = None
    contact_phone: str | None = Field(default=None, pattern=r"^\+[1-9]\d{6,14}$")


class _StudentAllocation(RevisedPayload):
    round_id: str
    student_id: str
    school_id: str
    placement_id: str
    employer_id: str
    sector: str
    week_starts: date


class AllocationPublished(_StudentAllocation):
    """A student has a placement for a week. `rematch` is true when it replaces a withdrawal;
    `cleared` when it came through clearing, outside the student's choices."""

    event_type = "placements.allocation.published"

    rematch: bool = False
    cleared: bool = False


class AllocationConfirmed(_StudentAllocation):
    """The employer confirmed they will take the student."""

    event_type = "placements.allocation.confirmed"


class WithdrawnBy(StrEnum):
    STUDENT = "student"
    EMPLOYER = "employer"


class AllocationWithdrawn(_StudentAllocation):
    event_type = "placements.allocation.withdrawn"

    withdrawn_by: WithdrawnBy


class EmployerPlaces(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    placement_id: str
    week_starts: date
    students: int = Field(ge=0)


class EmployerAllocationsPublished(RevisedPayload):
    """What the employer is now expected to host in a round (the whole list, not a change)."""

    event_type = "placements.employer_allocations.published"

    round_id: str
    employer_id: str
    places: list[EmployerPlaces]
