"""Keep placements' copy of schools and students in step with booking's directory.

Events can arrive twice or out of order, so each copy keeps the revision it was written from
and an upsert applies only when its revision is newer (or the copy has none yet, being made
before events carried one). An erasure always applies and leaves a tombstone: booking may
send a late upsert for the student, or import the same pupil again under the same id, and
neither brings them back here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from shared.events import Event
from shared.events.directory import SchoolUpserted, StudentErased, StudentUpserted
from shared.messaging.consumer import Handler


class DirectoryCopies(Protocol):
    async def save_school(self, values: dict[str, Any]) -> None:
        """Store the school unless the copy holds a newer revision."""
        ...

    async def save_student(self, values: dict[str, Any]) -> None:
        """Store the student unless the copy holds a newer revision."""
        ...

    async def is_erased(self, student_id: str) -> bool: ...
    async def erase_student(self, student_id: str, revision: int, erased_at: datetime) -> None:
        """Remove every record of the student and keep a tombstone of `revision`."""
        ...


class DirectoryUnit(Protocol):
    """The consumer's unit of work (the consumer commits it with its inbox row)."""

    @property
    def directory(self) -> DirectoryCopies: ...


async def school_upserted(event: Event[SchoolUpserted], uow: DirectoryUnit) -> None:
    school = event.payload
    await uow.directory.save_school(
        {
            "id": school.school_id,
            "name": school.name,
            "postcode_district": school.postcode_district,
            "latitude": school.latitude,
            "longitude": school.longitude,
            "revision": school.revision,
        }
    )


async def student_upserted(event: Event[StudentUpserted], uow: DirectoryUnit) -> None:
    student = event.payload
    if await uow.directory.is_erased(student.student_id):
        return
    await uow.directory.save_student(
        {
            "id": student.student_id,
            "school_id": student.school_id,
            "year_group": student.year_group,
            "date_of_birth": student.date_of_birth,
            "disadvantaged": student.disadvantaged,
            "sen": student.sen,
            "revision": student.revision,
            "home_district": student.home_district,
        }
    )


async def student_erased(event: Event[StudentErased], uow: DirectoryUnit) -> None:
    """Erasure removes every record placements holds about the student, published or not."""
    erased = event.payload
    await uow.directory.erase_student(
        erased.student_id, erased.revision, event.envelope.occurred_at
    )


HANDLERS: dict[str, Handler[DirectoryUnit]] = {
    SchoolUpserted.event_type: school_upserted,
    StudentUpserted.event_type: student_upserted,
    StudentErased.event_type: student_erased,
}
