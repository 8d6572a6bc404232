"""Bookable slots at a school: the domain's grid fed with what the database holds.

Busy time for an adviser is everything that already holds them, at any school: imported
personal-calendar time (the hook the calendars issue fills), active appointments, and places
held by a live waitlist offer for somebody else.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import (
    adviser_busy,
    appointments,
    school_periods,
    schools,
    students,
    waitlist_offers,
)
from services.booking.application.agreements import (
    academic_year_bounds,
    academic_year_of,
    load_agreement,
)
from services.booking.domain.agreement import PartnershipAgreement
from services.booking.domain.availability import Slot, bookable_slots, visible_slots
from services.booking.domain.calendar import LocalPeriod, SchoolCalendar
from services.booking.domain.model import (
    DateRange,
    Interval,
    PriorityFlag,
    SessionType,
    Student,
)

MAX_RANGE = timedelta(days=62)


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


@dataclass(frozen=True)
class BusyTime:
    by_adviser: dict[str, list[Interval]]
    seats: dict[tuple[str, Interval], int]


async def busy_time(
    session: AsyncSession,
    adviser_ids: Sequence[str],
    start: datetime,
    end: datetime,
    *,
    student_id: str | None = None,
    ignore_appointment: str | None = None,
) -> BusyTime:
    """What holds each adviser in [start, end), and the seats taken in shared sessions.

    A live waitlist offer holds its place for the student it was made to, so that student
    (and only that student) still sees the place as free.
    """
    by_adviser: dict[str, list[Interval]] = defaultdict(list)
    seats: dict[tuple[str, Interval], int] = defaultdict(int)
    if not adviser_ids:
        return BusyTime({}, {})
    ids = list(adviser_ids)
    held = await session.execute(
        sa.select(
            appointments.c.id,
            appointments.c.adviser_id,
            appointments.c.starts_at,
            appointments.c.ends_at,
            appointments.c.capacity,
        ).where(
            appointments.c.adviser_id.in_(ids),
            appointments.c.status == "confirmed",
            appointments.c.starts_at < end,
            appointments.c.ends_at > start,
        )
    )
    for row in held:
        if row.id == ignore_appointment:
            continue
        interval = Interval(row.starts_at, row.ends_at)
        by_adviser[row.adviser_id].append(interval)
        if row.capacity > 1:
            seats[(row.adviser_id, interval)] += 1
    blocked = await session.execute(
        sa.select(adviser_busy.c.adviser_id, adviser_busy.c.starts_at, adviser_busy.c.ends_at)
        .where(
            adviser_busy.c.adviser_id.in_(ids),
            adviser_busy.c.starts_at < end,
            adviser_busy.c.ends_at > start,
        )
        .union_all(
            sa.select(
                waitlist_offers.c.adviser_id, waitlist_offers.c.starts_at, waitlist_offers.c.ends_at
            ).where(
                waitlist_offers.c.adviser_id.in_(ids),
                waitlist_offers.c.status == "open",
                waitlist_offers.c.student_id != (student_id or ""),
                waitlist_offers.c.starts_at < end,
                waitlist_offers.c.ends_at > start,
            )
        )
    )
    for busy in blocked:
        by_adviser[busy.adviser_id].append(Interval(busy.starts_at, busy.ends_at))
    return BusyTime(dict(by_adviser), dict(seats))


async def agreements_between(
    session: AsyncSession, school_id: str, first: date, last: date
) -> list[PartnershipAgreement]:
    """The agreements in force over the local dates `first`..`last` (one per academic year)."""
    found = []
    day = first
    while day <= last:
        agreement = await load_agreement(session, school_id, day)
        if agreement is not None:
            found.append(agreement)
        day = academic_year_bounds(academic_year_of(day))[1] + timedelta(days=1)
    return found


async def find_slots(
    session: AsyncSession,
    school: SchoolRecord,
    session_type: SessionType,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    student: Student | None,
    staff: bool = False,
    ignore_appointment: str | None = None,
    agreements: Sequence[PartnershipAgreement] | None = None,
) -> list[Slot]:
    """Free slots starting in [start, end).

    A student sees reserved slots only if targeted; staff booking a referral see them all.
    `agreements` saves reading them again when the caller already has them.
    """
    calendar = school.calendar
    found: list[Slot] = []
    if agreements is None:
        agreements = await agreements_between(
            session, school.school_id, calendar.local_date(start), calendar.local_date(end)
        )
    for agreement in agreements:
        if session_type not in agreement.session_types:
            continue
        first, last = academic_year_bounds(agreement.academic_year)
        lower = max(start, _midnight(first, calendar))
        upper = min(end, _midnight(last + timedelta(days=1), calendar))
        if lower >= upper:
            continue
        config = agreement.config(session_type)
        busy = await busy_time(
            session,
            agreement.adviser_ids,
            lower - config.buffer,
            upper + config.length + config.buffer,
            student_id=student.student_id if student else None,
            ignore_appointment=ignore_appointment,
        )
        found += bookable_slots(
            agreement,
            calendar,
            session_type,
            lower,
            upper,
            now,
            busy.by_adviser,
            seats_taken=busy.seats,
        )
    if student is not None and not staff:
        found = visible_slots(found, student.is_priority, now)
    return sorted(found, key=lambda slot: slot.start)


def _midnight(day: date, calendar: SchoolCalendar) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=calendar.zone)
