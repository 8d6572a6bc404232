"""Schools and their agreements (through the reference cache), and students."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import school_periods, schools, students
from services.booking.application.ports import StudentLabel
from services.booking.application.schools import SchoolRecord
from services.booking.domain.agreement import PartnershipAgreement
from services.booking.domain.calendar import LocalPeriod, SchoolCalendar
from services.booking.domain.model import DateRange, PriorityFlag, Student

if TYPE_CHECKING:
    from services.booking.adapters.repositories.reference import ReferenceReads


class SchoolRepository:
    def __init__(self, reference: ReferenceReads) -> None:
        self._reference = reference

    async def get(self, school_id: str) -> SchoolRecord | None:
        return await self._reference.school(school_id)

    async def agreement(self, school_id: str, day: date) -> PartnershipAgreement | None:
        """The agreement in force at the school on the local date `day`."""
        return await self._reference.agreement(school_id, day)


class StudentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, student_id: str) -> Student | None:
        return await load_student(self._session, student_id)

    async def of_school(self, school_id: str) -> list[Student]:
        """The school's roll."""
        rows = await self._session.execute(
            sa.select(students.c.id, students.c.year_group, students.c.priority_flags).where(
                students.c.school_id == school_id
            )
        )
        return [
            Student(
                r.id, school_id, r.year_group, frozenset(PriorityFlag(f) for f in r.priority_flags)
            )
            for r in rows
        ]

    async def labels(self, student_ids: Collection[str]) -> dict[str, StudentLabel]:
        """Names, year groups and school references of the students `student_ids`."""
        if not student_ids:
            return {}
        rows = await self._session.execute(
            sa.select(*_LABEL).where(students.c.id.in_(sorted(set(student_ids))))
        )
        return {row.id: StudentLabel(*row) for row in rows}

    async def search(self, school_id: str, text: str, limit: int = 20) -> list[StudentLabel]:
        """The school's students whose name or school reference contains `text`."""
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = await self._session.execute(
            sa.select(*_LABEL)
            .where(
                students.c.school_id == school_id,
                sa.or_(
                    students.c.display_name.ilike(pattern, escape="\\"),
                    students.c.reference.ilike(pattern, escape="\\"),
                ),
            )
            .order_by(students.c.display_name, students.c.id)
            .limit(limit)
        )
        return [StudentLabel(*row) for row in rows]


_LABEL = (
    students.c.id,
    students.c.school_id,
    students.c.year_group,
    students.c.display_name,
    students.c.reference,
)


async def load_school(session: AsyncSession, school_id: str) -> SchoolRecord | None:
    row = (await session.execute(sa.select(schools).where(schools.c.id == school_id))).first()
    if row is None:
        return None
    periods = (
        await session.execute(
            sa.select(school_periods).where(school_periods.c.school_id == school_id)
        )
    ).all()

    def ranges(kind: str) -> tuple[DateRange, ...]:
        return tuple(
            DateRange(p.first_day, p.last_day)
            for p in periods
            if p.kind == kind and p.starts is None
        )

    part_days = tuple(
        LocalPeriod(datetime.combine(p.first_day, p.starts), datetime.combine(p.last_day, p.ends))
        for p in periods
        if p.starts is not None
    )
    calendar = SchoolCalendar(
        school_id=school_id,
        terms=ranges("term"),
        holidays=ranges("holiday"),
        blocked_days=ranges("exam") + ranges("blocked"),
        blocked_periods=part_days,
        day_start=row.day_starts,
        day_end=row.day_ends,
        zone=ZoneInfo(row.time_zone),
    )
    return SchoolRecord(school_id, row.name, calendar, row.coordinator_id, row.lead_adviser_id)


async def load_student(session: AsyncSession, student_id: str) -> Student | None:
    row = (
        await session.execute(
            sa.select(
                students.c.id,
                students.c.school_id,
                students.c.year_group,
                students.c.priority_flags,
            ).where(students.c.id == student_id)
        )
    ).first()
    if row is None:
        return None
    return Student(
        row.id,
        row.school_id,
        row.year_group,
        frozenset(PriorityFlag(f) for f in row.priority_flags),
    )
