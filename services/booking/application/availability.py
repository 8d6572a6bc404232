"""Bookable slots at a school: the domain's grid fed with what holds the advisers.

Busy time for an adviser is everything that already holds them, at any school: imported
personal-calendar time (the hook the calendars issue fills), active appointments, and places
held by a live waitlist offer for somebody else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta

from services.booking.application.agreements import academic_year_bounds, academic_year_of
from services.booking.application.ports import Schools, SlotReads
from services.booking.application.schools import SchoolRecord
from services.booking.domain.agreement import PartnershipAgreement
from services.booking.domain.availability import (
    Slot,
    bookable_slots,
    nearest_alternatives,
    visible_slots,
)
from services.booking.domain.model import SessionType, Student

MAX_RANGE = timedelta(days=62)


async def agreements_between(
    schools: Schools, school_id: str, first: date, last: date
) -> list[PartnershipAgreement]:
    """The agreements in force over the local dates `first`..`last` (one per academic year)."""
    return await _in_force(lambda day: schools.agreement(school_id, day), first, last)


async def _in_force(
    agreement_on: Callable[[date], Awaitable[PartnershipAgreement | None]],
    first: date,
    last: date,
) -> list[PartnershipAgreement]:
    found = []
    day = first
    while day <= last:
        agreement = await agreement_on(day)
        if agreement is not None:
            found.append(agreement)
        day = academic_year_bounds(academic_year_of(day))[1] + timedelta(days=1)
    return found


async def find_slots(
    reads: SlotReads,
    school: SchoolRecord,
    session_type: SessionType,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    student: Student | None,
    staff: bool = False,
) -> list[Slot]:
    """Free slots starting in [start, end).

    A student sees reserved slots only if targeted; staff booking a referral see them all.
    """
    calendar = school.calendar
    found: list[Slot] = []
    agreements: Sequence[PartnershipAgreement] = await _in_force(
        lambda day: reads.schools.agreement(school.school_id, day),
        calendar.local_date(start),
        calendar.local_date(end),
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
        busy = await reads.busy.busy_time(
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
    reads: SlotReads,
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
    school = await reads.schools.get(school_id)
    if school is None:
        return []
    student = await reads.students.get(student_id) if student_id else None
    slots = await find_slots(
        reads,
        school,
        session_type,
        wanted - timedelta(days=14),
        wanted + timedelta(days=14),
        now,
        student=student,
        staff=staff,
    )
    return nearest_alternatives([s for s in slots if s.start != wanted], wanted, n)
