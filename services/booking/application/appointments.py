"""Use cases on appointments: book a slot, cancel, reschedule, record attendance.

Each runs in one unit of work with its outgoing events. The domain decides (availability,
allocation, the diary's clash rules); the database is the final guard: PostgreSQL's exclusion
constraints and the unique seat index refuse what a concurrent transaction slipped past the
domain's check, and SQLite's `BEGIN IMMEDIATE` makes the check and the insert one step.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import advisers, appointments
from services.booking.application import reference
from services.booking.application.agreements import load_agreement
from services.booking.application.availability import (
    SchoolRecord,
    find_slots,
    load_school,
    load_student,
)
from services.booking.application.booking_reads import (
    AroundSlot,
    appointment_rows,
    read_around,
)
from services.booking.application.waitlist import accept_offers_taken, offer_freed_place
from services.booking.domain.agreement import PartnershipAgreement
from services.booking.domain.allocation import (
    AdviserLoad,
    AllocationRequest,
    Candidate,
    allocate_adviser,
)
from services.booking.domain.appointments import (
    Appointment,
    AttendanceRecord,
    Diary,
    Referral,
    Urgency,
)
from services.booking.domain.availability import (
    Slot,
    check_booking_window,
    nearest_alternatives,
    slots_at,
    visible_slots,
)
from services.booking.domain.calendar import SchoolCalendar
from services.booking.domain.errors import (
    BookingError,
    SlotTaken,
    StudentAlreadyBooked,
    UnknownAppointment,
)
from services.booking.domain.model import (
    AdviserKind,
    AppointmentStatus,
    Interval,
    Role,
    SessionType,
    Student,
    as_utc,
)
from shared.db import lost_to_concurrent_transaction
from shared.events.booking import (
    AppointmentAttendanceRecorded,
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentRescheduled,
    NoShowChase,
)
from shared.uow import UnitOfWork

# Each lost race means another booking committed (or the database broke a deadlock), and the
# next attempt re-reads, so attempts run out only under a storm on one slot; the cap keeps a
# pathological case from looping.
ATTEMPTS = 10


class SlotUnavailable(BookingError):
    code = "slot_unavailable"

    def __init__(self) -> None:
        super().__init__("That time is not free to book. Please pick one of the other times.")


class UnknownStudent(BookingError):
    code = "unknown_student"

    def __init__(self) -> None:
        super().__init__("There is no such student at this school.")


class UnknownSchool(BookingError):
    code = "unknown_school"

    def __init__(self) -> None:
        super().__init__("There is no such school.")


@dataclass(frozen=True)
class BookSlot:
    school_id: str
    session_type: SessionType
    starts_at: datetime
    student_id: str
    booked_by: Role
    requested_adviser_id: str | None = None
    referral: Referral | None = None


@dataclass(frozen=True)
class CancelAppointment:
    appointment_id: str
    by_role: Role
    reason: str | None


@dataclass(frozen=True)
class RescheduleAppointment:
    appointment_id: str
    starts_at: datetime
    by_role: Role


@dataclass(frozen=True)
class RecordAttendance:
    appointment_id: str
    attended: bool


Clock = Callable[[], datetime]


def to_appointment(row: Any) -> Appointment:
    referral = None
    if row.referral_reason is not None:
        referral = Referral(
            reason=row.referral_reason,
            urgency=Urgency(row.referral_urgency or Urgency.ROUTINE),
            required_kind=AdviserKind(row.required_kind) if row.required_kind else None,
            referred_by=Role(row.booked_by),
        )
    attendance = None
    if row.attendance_recorded_at is not None:
        attendance = AttendanceRecord(row.status == "attended", row.attendance_recorded_at)
    return Appointment(
        id=row.id,
        school_id=row.school_id,
        student_id=row.student_id,
        adviser_id=row.adviser_id,
        session_type=SessionType(row.session_type),
        interval=Interval(row.starts_at, row.ends_at),
        room=row.location,
        booked_by=Role(row.booked_by),
        status=AppointmentStatus(row.status),
        revision=row.revision,
        referral=referral,
        cancel_reason=row.cancel_reason,
        cancelled_by=Role(row.cancelled_by) if row.cancelled_by else None,
        attendance=attendance,
    )


async def get_appointment(
    session: AsyncSession, appointment_id: str, *, for_update: bool = False
) -> Any:
    query = sa.select(appointments).where(appointments.c.id == appointment_id)
    if for_update and session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    return (await session.execute(query)).first()


async def book_slot(new_uow: Callable[[], UnitOfWork], cmd: BookSlot, now: datetime) -> Appointment:
    """Book `cmd`'s slot, retrying when a concurrent booking took the adviser first.

    A retry re-reads everything, so a slot offered by several advisers (or a group session
    with seats left) still goes to a free place; when none is left, the domain's own check
    refuses it. A deadlock between two clashing inserts is a lost race like any other.
    """
    for attempt in range(ATTEMPTS):
        async with new_uow() as uow:
            try:
                return await _book_once(uow, cmd, now)
            except IntegrityError as exc:
                refusal = _refusal_from(exc, cmd)
                if isinstance(refusal, StudentAlreadyBooked) or attempt == ATTEMPTS - 1:
                    raise refusal from exc
            except DBAPIError as exc:
                if not lost_to_concurrent_transaction(exc):
                    raise
                if attempt == ATTEMPTS - 1:
                    raise SlotTaken("", cmd.starts_at) from exc
    raise AssertionError("unreachable")


def _refusal_from(exc: IntegrityError, cmd: BookSlot) -> BookingError:
    if "student_no_overlap" in str(exc.orig):
        return StudentAlreadyBooked(cmd.student_id, "")
    return SlotTaken("", cmd.starts_at)


async def _book_once(uow: UnitOfWork, cmd: BookSlot, now: datetime) -> Appointment:
    """One attempt: cached reference data, two reads, the domain's decisions, one insert.

    The checks and refusals come in the same order as ever: school, student, agreement and
    session type, booking window, then the slot itself.
    """
    s = uow.session
    school = await reference.school(s, cmd.school_id)
    if school is None:
        raise UnknownSchool()
    calendar = school.calendar
    day = calendar.local_date(cmd.starts_at)
    agreement = await reference.agreement(s, cmd.school_id, day)
    config = agreement.session_types.get(cmd.session_type) if agreement is not None else None
    if agreement is None or config is None:
        _check_student(await load_student(s, cmd.student_id), cmd)
        if agreement is None:
            raise SlotUnavailable()
        agreement.config(cmd.session_type)  # refuses the session type
        raise AssertionError("unreachable")
    start = as_utc(cmd.starts_at)
    grid = reference.grid(s, agreement, calendar, cmd.session_type, day)
    offers = grid.get(start, ())
    window = Interval(
        start - config.buffer,
        max((o.interval.end for o in offers), default=start + config.length) + config.buffer,
    )
    around = await read_around(
        await s.connection(),
        school_id=cmd.school_id,
        student_id=cmd.student_id,
        adviser_ids=sorted({o.adviser_id for o in offers}),
        start=start,
        window=window,
        day=_local_day(day, calendar),
    )
    student = _check_student(around.student, cmd)
    check_booking_window(agreement, cmd.starts_at, now)
    slots = slots_at(agreement, cmd.session_type, grid, start, now, around.busy, around.seats)
    if not cmd.booked_by.is_staff:
        slots = visible_slots(slots, student.is_priority, now)
    if not slots:
        raise SlotUnavailable()
    slot = slots[0]
    adviser_id = await _choose_adviser(s, agreement, school, slot, student, cmd, around)
    appointment = Appointment(
        id=str(uuid.uuid4()),
        school_id=cmd.school_id,
        student_id=cmd.student_id,
        adviser_id=adviser_id,
        session_type=cmd.session_type,
        interval=slot.interval,
        room=slot.room_for(adviser_id),
        booked_by=cmd.booked_by,
        referral=cmd.referral,
    )
    rows = await appointment_rows(
        await s.connection(), around.meeting(adviser_id, cmd.student_id, slot.interval)
    )
    diary = Diary(_diary_view(rows, appointment), agreement.session_types)
    diary.book(appointment)
    place_key, seat = _place_among(rows, appointment, config.capacity)
    stamp = datetime.now(UTC)
    referral = appointment.referral
    await (await s.connection()).execute(
        _INSERT_APPOINTMENT,
        {
            "id": appointment.id,
            "school_id": appointment.school_id,
            "student_id": appointment.student_id,
            "adviser_id": adviser_id,
            "session_type": appointment.session_type.value,
            "starts_at": appointment.interval.start,
            "ends_at": appointment.interval.end,
            "minutes": appointment.interval.minutes,
            "location": appointment.room,
            "status": appointment.status.value,
            "revision": appointment.revision,
            "place_key": place_key,
            "seat": seat,
            "capacity": config.capacity,
            "booked_by": appointment.booked_by.value,
            "referral_reason": referral.reason if referral else None,
            "referral_urgency": referral.urgency.value if referral else None,
            "required_kind": referral.required_kind.value
            if referral and referral.required_kind
            else None,
            "created_at": stamp,
            "updated_at": stamp,
        },
    )
    if around.holds_offer:
        await accept_offers_taken(uow, appointment)
    await uow.emit(_event(AppointmentConfirmed, appointment, school), key=appointment.id)
    await uow.commit()
    return appointment


_INSERT_APPOINTMENT = appointments.insert()


def _check_student(student: Student | None, cmd: BookSlot) -> Student:
    if student is None or student.school_id != cmd.school_id:
        raise UnknownStudent()
    return student


def _local_day(day: date, calendar: SchoolCalendar) -> Interval:
    """The local date `day` as an interval of instants (23 or 25 hours at a clock change)."""
    return Interval(
        datetime.combine(day, datetime.min.time(), tzinfo=calendar.zone),
        datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=calendar.zone),
    )


async def _choose_adviser(
    s: AsyncSession,
    agreement: PartnershipAgreement,
    school: SchoolRecord,
    slot: Slot,
    student: Student,
    cmd: BookSlot,
    around: AroundSlot,
) -> str:
    """`_allocate` fed from what the booking already read and the cached reference data."""
    kinds = await reference.adviser_kinds(s, slot.adviser_ids)
    day = school.calendar.local_date(slot.start)
    agreed = reference.agreed_minutes(s, agreement, school.calendar, day)
    loads = {
        adviser_id: AdviserLoad(around.booked_minutes.get(adviser_id, 0), agreed[adviser_id])
        for adviser_id in slot.adviser_ids
    }
    return await _allocate_with(s, agreement, slot, student, cmd, kinds, loads)


def _diary_view(rows: list[Any], appointment: Appointment) -> list[Appointment]:
    """Active appointments of the adviser or student overlapping the new one."""
    interval = appointment.interval
    return [
        to_appointment(row)
        for row in rows
        if (row.adviser_id == appointment.adviser_id or row.student_id == appointment.student_id)
        and row.starts_at < interval.end
        and row.ends_at > interval.start
        and row.id != appointment.id
    ]


def _place_among(rows: list[Any], appointment: Appointment, capacity: int) -> tuple[str, int]:
    """`_place` from rows already read: the window read holds every seat of the session."""
    if capacity == 1:
        return appointment.id, 1
    key = _place_key(appointment)
    taken = {row.seat for row in rows if row.place_key == key}
    return key, _free_seat(taken, capacity, appointment.student_id)


async def _allocate(
    s: AsyncSession,
    agreement: PartnershipAgreement,
    school: SchoolRecord,
    slot: Slot,
    student: Student,
    cmd: BookSlot,
) -> str:
    found = await s.execute(
        sa.select(advisers.c.id, advisers.c.kinds).where(advisers.c.id.in_(slot.adviser_ids))
    )
    kinds = {row.id: row.kinds for row in found}
    loads = await _day_loads(s, agreement, school, slot)
    return await _allocate_with(s, agreement, slot, student, cmd, kinds, loads)


async def _allocate_with(
    s: AsyncSession,
    agreement: PartnershipAgreement,
    slot: Slot,
    student: Student,
    cmd: BookSlot,
    kinds: dict[str, list[str]],
    loads: dict[str, AdviserLoad],
) -> str:
    candidates = [
        Candidate(adviser_id, AdviserKind(kind), cmd.school_id, (slot.interval,))
        for adviser_id in slot.adviser_ids
        for kind in kinds.get(adviser_id, [AdviserKind.GUIDANCE.value])
    ]
    history = []
    if student.is_priority:  # continuity is kept for targeted students only
        history = [
            to_appointment(row)
            for row in await s.execute(
                sa.select(appointments).where(
                    appointments.c.student_id == student.student_id,
                    appointments.c.status == AppointmentStatus.ATTENDED.value,
                )
            )
        ]
    request = AllocationRequest(
        school_id=cmd.school_id,
        student_id=student.student_id,
        interval=slot.interval,
        required_kind=cmd.referral.required_kind if cmd.referral else None,
        priority_student=student.is_priority,
        requested_adviser_id=cmd.requested_adviser_id,
        requests_allowed=agreement.adviser_requests_allowed,
    )
    return allocate_adviser(request, candidates, history, loads).adviser_id


async def _day_loads(
    s: AsyncSession, agreement: PartnershipAgreement, school: SchoolRecord, slot: Slot
) -> dict[str, AdviserLoad]:
    """Booked against agreed minutes on the slot's day: the balance the allocation keeps.

    A day, not a term: advisers come on different days, and balancing each day balances the
    term without the allocation having to read a term of appointments on every booking.
    """
    calendar = school.calendar
    day = calendar.local_date(slot.start)
    start = datetime.combine(day, datetime.min.time(), tzinfo=calendar.zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=calendar.zone)
    rows = await s.execute(
        sa.select(appointments.c.adviser_id, sa.func.sum(appointments.c.minutes))
        .where(
            appointments.c.school_id == school.school_id,
            appointments.c.adviser_id.in_(slot.adviser_ids),
            appointments.c.status != AppointmentStatus.CANCELLED.value,
            appointments.c.starts_at >= start,
            appointments.c.starts_at < end,
        )
        .group_by(appointments.c.adviser_id)
    )
    booked: dict[str, int] = dict.fromkeys(slot.adviser_ids, 0)
    for adviser_id, minutes in rows:
        booked[adviser_id] = int(minutes or 0)
    return {
        adviser_id: AdviserLoad(minutes, agreement.agreed_minutes(adviser_id, day, day, calendar))
        for adviser_id, minutes in booked.items()
    }


async def _active_around(s: AsyncSession, appointment: Appointment) -> list[Appointment]:
    """Active appointments of the adviser or student overlapping the new one: the diary's view."""
    rows = await s.execute(
        sa.select(appointments).where(
            sa.or_(
                appointments.c.adviser_id == appointment.adviser_id,
                appointments.c.student_id == appointment.student_id,
            ),
            appointments.c.status == AppointmentStatus.CONFIRMED.value,
            appointments.c.starts_at < appointment.interval.end,
            appointments.c.ends_at > appointment.interval.start,
        )
    )
    return [to_appointment(row) for row in rows if row.id != appointment.id]


async def _place(s: AsyncSession, appointment: Appointment, capacity: int) -> tuple[str, int]:
    """The shared-session key and a free seat; one-to-one sessions key on their id."""
    if capacity == 1:
        return appointment.id, 1
    key = _place_key(appointment)
    taken = set(
        await s.scalars(
            sa.select(appointments.c.seat).where(
                appointments.c.place_key == key,
                appointments.c.status == AppointmentStatus.CONFIRMED.value,
            )
        )
    )
    return key, _free_seat(taken, capacity, appointment.student_id)


def _free_seat(taken: set[int], capacity: int, student_id: str) -> int:
    """One of the free seats, chosen by the student's id; `capacity + 1` (which the seat
    check refuses) when the session is full.

    Seat numbers only make the unique index count heads. Students joining at the same moment
    would all take the lowest free number and all but one would lose the race; spreading
    them over the free numbers lets most of them in at the first attempt.
    """
    free = sorted(set(range(1, capacity + 1)) - taken)
    if not free:
        return capacity + 1
    return free[zlib.crc32(student_id.encode()) % len(free)]


def _place_key(appointment: Appointment) -> str:
    return (
        f"{appointment.adviser_id}/{appointment.session_type.value}/"
        f"{appointment.interval.start.isoformat()}"
    )


def _event(event_type: Any, appointment: Appointment, school: SchoolRecord, **extra: Any) -> Any:
    """The message-safe view of an appointment: no adviser kind, no referral reason."""
    return event_type(
        appointment_id=appointment.id,
        revision=appointment.revision,
        school_id=appointment.school_id,
        student_id=appointment.student_id,
        adviser_id=appointment.adviser_id,
        session_type=appointment.session_type.value,
        starts_at=appointment.interval.start,
        ends_at=appointment.interval.end,
        location=appointment.room,
        time_zone=school.calendar.zone.key,
        **extra,
    )


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
    """The free slots nearest the time that was refused, as the caller could book them."""
    school = await load_school(session, school_id)
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


async def cancel_appointment(
    uow: UnitOfWork, cmd: CancelAppointment, now: datetime, offer_ttl: timedelta
) -> Appointment:
    row = await get_appointment(uow.session, cmd.appointment_id, for_update=True)
    if row is None:
        raise UnknownAppointment(cmd.appointment_id)
    cancelled = await cancel_within(uow, row, cmd.by_role, cmd.reason, now, offer_ttl)
    await uow.commit()
    return cancelled


async def cancel_within(
    uow: UnitOfWork,
    row: Any,
    by_role: Role,
    reason: str | None,
    now: datetime,
    offer_ttl: timedelta,
) -> Appointment:
    """Cancel the appointment `row` inside the caller's unit of work (which commits)."""
    s = uow.session
    cancelled = to_appointment(row).cancel(by_role, reason, now)
    school = await load_school(s, cancelled.school_id)
    assert school is not None
    await _save(s, cancelled, cancel_reason=cancelled.cancel_reason, cancelled_by=by_role.value)
    await uow.emit(
        _event(AppointmentCancelled, cancelled, school, cancelled_by=by_role.value),
        key=cancelled.id,
    )
    await offer_freed_place(uow, cancelled, now, offer_ttl)
    return cancelled


async def reschedule_appointment(
    new_uow: Callable[[], UnitOfWork],
    cmd: RescheduleAppointment,
    now: datetime,
    offer_ttl: timedelta,
) -> Appointment:
    """Move to another free slot of the same type; same id, revision bumped, events follow."""
    async with new_uow() as uow:
        s = uow.session
        row = await get_appointment(s, cmd.appointment_id, for_update=True)
        if row is None:
            raise UnknownAppointment(cmd.appointment_id)
        current = to_appointment(row)
        school = await load_school(s, current.school_id)
        student = await load_student(s, current.student_id)
        assert school is not None and student is not None
        agreement = await load_agreement(
            s, current.school_id, school.calendar.local_date(cmd.starts_at)
        )
        if agreement is None:
            raise SlotUnavailable()
        if not cmd.by_role.is_staff:
            check_booking_window(agreement, cmd.starts_at, now)
        slots = await find_slots(
            s,
            school,
            current.session_type,
            cmd.starts_at,
            cmd.starts_at + timedelta(seconds=1),
            now,
            student=student,
            staff=cmd.by_role.is_staff,
            ignore_appointment=current.id,
        )
        slot = next((x for x in slots if x.start == cmd.starts_at), None)
        if slot is None:
            raise SlotUnavailable()
        booking = BookSlot(
            current.school_id,
            current.session_type,
            cmd.starts_at,
            current.student_id,
            cmd.by_role,
            requested_adviser_id=current.adviser_id,
            referral=current.referral,
        )
        adviser_id = (
            current.adviser_id
            if current.adviser_id in slot.adviser_ids
            else (await _allocate(s, agreement, school, slot, student, booking))
        )
        room = slot.room_for(adviser_id)
        proposed = current.reschedule(slot.interval, adviser_id, now, room, by_role=cmd.by_role)
        others = await _active_around(s, proposed)
        moved = Diary([*others, current], agreement.session_types).reschedule(
            current.id, slot.interval, adviser_id, now, room, by_role=cmd.by_role
        )
        capacity = agreement.config(current.session_type).capacity
        place_key, seat = await _place(s, moved, capacity)
        await _save(
            s,
            moved,
            adviser_id=adviser_id,
            starts_at=moved.interval.start,
            ends_at=moved.interval.end,
            minutes=moved.interval.minutes,
            location=moved.room,
            place_key=place_key,
            seat=seat,
            capacity=capacity,
        )
        await uow.emit(_event(AppointmentRescheduled, moved, school), key=moved.id)
        await offer_freed_place(uow, current, now, offer_ttl)
        try:
            await uow.commit()
        except IntegrityError as exc:
            raise SlotTaken(adviser_id, cmd.starts_at) from exc
        return moved


async def record_attendance(uow: UnitOfWork, cmd: RecordAttendance, now: datetime) -> Appointment:
    """The PA records whether the student came; a no-show is chased at once."""
    s = uow.session
    row = await get_appointment(s, cmd.appointment_id, for_update=True)
    if row is None:
        raise UnknownAppointment(cmd.appointment_id)
    updated, chase = to_appointment(row).mark_attendance(cmd.attended, now)
    school = await load_school(s, updated.school_id)
    assert school is not None
    await _save(s, updated, attendance_recorded_at=now)
    await uow.emit(
        _event(AppointmentAttendanceRecorded, updated, school, attended=cmd.attended),
        key=updated.id,
    )
    if chase is not None:
        await uow.emit(
            NoShowChase(
                appointment_id=chase.appointment_id,
                school_id=chase.school_id,
                student_id=chase.student_id,
                coordinator_id=school.coordinator_id,
                starts_at=chase.starts_at,
            ),
            key=chase.appointment_id,
        )
    await uow.commit()
    return updated


async def _save(s: AsyncSession, appointment: Appointment, **values: Any) -> None:
    await s.execute(
        appointments.update()
        .where(appointments.c.id == appointment.id)
        .values(
            status=appointment.status.value,
            revision=appointment.revision,
            updated_at=datetime.now(UTC),
            **values,
        )
    )
