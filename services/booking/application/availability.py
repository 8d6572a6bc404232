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

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import adviser_busy, appointments, waitlist_offers
from services.booking.application import reference
from services.booking.application.agreements import academic_year_bounds, academic_year_of
from services.booking.application.schools import SchoolRecord, load_student
from services.booking.domain.agreement import PartnershipAgreement
from services.booking.domain.availability import (
    Slot,
    bookable_slots,
    nearest_alternatives,
    visible_slots,
)
from services.booking.domain.model import Interval, SessionType, Student

MAX_RANGE = timedelta(days=62)


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
        agreement = await reference.agreement(session, school_id, day)
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
        lower = max(start, calendar.whole_day(first).start)
        upper = min(end, calendar.whole_day(last).end)
        if lower >= upper:
            continue
        config = agreement.config(session_type)
        busy = await busy_time(
            session,
            agreement.adviser_ids,
            lower - config.buffer,
            upper + config.length + config.buffer,
            student_id=student.student_id if student else None,
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


async def alternatives(
    session: AsyncSession,
    school_id: str,
    session_type: SessionType,
    wanted: datetime,
    now: datetime,
    *,
    student_id: str | None,
    staff: bool,
    n: int = 3,
) -> list[Slot]:
    """The free slots nearest a time that was refused, as the caller could book them."""
    school = await reference.school(session, school_id)
    if school is None:
        return []
    student = await load_student(session, student_id) if student_id else None
    slots = await find_slots(
        session,
        school,
        session_type,
        wanted - timedelta(days=14),
        wanted + timedelta(days=14),
        now,
        student=student,
        staff=staff,
    )
    return nearest_alternatives([s for s in slots if s.start != wanted], wanted, n)
