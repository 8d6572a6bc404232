"""Schools and students as the booking rules need them, read from the directory tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import school_periods, schools, students
from services.booking.domain.calendar import LocalPeriod, SchoolCalendar
from services.booking.domain.model import DateRange, PriorityFlag, Student


@dataclass(frozen=True)
class SchoolRecord:
    school_id: str
    name: str
    calendar: SchoolCalendar
    coordinator_id: str | None
    lead_adviser_id: str | None


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
