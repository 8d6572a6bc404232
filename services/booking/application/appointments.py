"""Use cases on appointments: book a slot, cancel, reschedule, record attendance.

Each runs in one unit of work with its outgoing events. The domain decides (availability,
allocation, the diary's clash rules); the database is the final guard: PostgreSQL's exclusion
constraints and the unique seat index refuse what a concurrent transaction slipped past the
domain's check, and SQLite's `BEGIN IMMEDIATE` makes the check and the insert one step.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import appointments
from services.booking.application import reference
from services.booking.application.availability import find_slots
from services.booking.application.booking_reads import (
    AroundSlot,
    appointment_rows,
    read_around,
)
from services.booking.application.schools import SchoolRecord, load_student
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
from services.booking.domain.errors import (
    BookingError,
    SlotTaken,
    StudentAlreadyBooked,
    UnknownAppointment,
    UnknownSchool,
    UnknownStudent,
)
from services.booking.domain.model import (
    AdviserKind,
    AppointmentStatus,
    Interval,
    Role,
    SessionType,
    SessionTypeConfig,
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
    """Book `cmd`'s slot, retrying when a concurrent booking took the adviser first."""
    return await _with_retries(new_uow, cmd, lambda uow: _book_once(uow, cmd, now))


async def _with_retries(
    new_uow: Callable[[], UnitOfWork],
    cmd: BookSlot,
    attempt_in: Callable[[UnitOfWork], Awaitable[Appointment]],
) -> Appointment:
    """Run `attempt_in` in a fresh unit of work until it is not beaten to the place.

    A retry re-reads everything, so a slot offered by several advisers (or a group session
    with seats left) still goes to a free place; when none is left, the domain's own check
    refuses it. A deadlock between two clashing inserts is a lost race like any other.
    """
    for attempt in range(ATTEMPTS):
        async with new_uow() as uow:
            try:
                return await attempt_in(uow)
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


@dataclass(frozen=True)
class _Placing:
    """Where an appointment would go: the slot, its adviser, and what is around it there."""

    school: SchoolRecord
    agreement: PartnershipAgreement
    config: SessionTypeConfig
    slot: Slot
    adviser_id: str
    around: AroundSlot
    meeting: list[Any]  # whole rows of the appointments the new one meets (seats, clashes)

    @property
    def room(self) -> str:
        return self.slot.room_for(self.adviser_id)


async def _place_for(
    uow: UnitOfWork, cmd: BookSlot, now: datetime, moving: Appointment | None = None
) -> _Placing:
    """Decide where `cmd` goes (for a new appointment, or for `moving` to move to).

    Cached reference data, one read, the domain's decisions. The checks and refusals come in
    the same order as ever: school, student, agreement and session type, booking window,
    then the slot itself. An appointment being moved keeps its adviser when they are free at
    the new time, and does not stand in its own way.
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
    conn = await s.connection()
    around = await read_around(
        conn,
        school_id=cmd.school_id,
        student_id=cmd.student_id,
        adviser_ids=sorted({o.adviser_id for o in offers}),
        start=start,
        window=window,
        day=calendar.whole_day(day),
        ignore=moving.id if moving is not None else None,
    )
    student = _check_student(around.student, cmd)
    check_booking_window(agreement, cmd.starts_at, now)
    slots = slots_at(agreement, cmd.session_type, grid, start, now, around.busy, around.seats)
    if not cmd.booked_by.is_staff:
        slots = visible_slots(slots, student.is_priority, now)
    if not slots:
        raise SlotUnavailable()
    slot = slots[0]
    if moving is not None and moving.adviser_id in slot.adviser_ids:
        adviser_id = moving.adviser_id
    else:
        adviser_id = await _choose_adviser(s, agreement, school, slot, student, cmd, around)
    meeting = await appointment_rows(
        conn, around.meeting(adviser_id, cmd.student_id, slot.interval)
    )
    return _Placing(school, agreement, config, slot, adviser_id, around, meeting)


async def _book_once(uow: UnitOfWork, cmd: BookSlot, now: datetime) -> Appointment:
    """One attempt: decide the place, let the diary check it, insert, emit, commit."""
    placing = await _place_for(uow, cmd, now)
    appointment = Appointment(
        id=str(uuid.uuid4()),
        school_id=cmd.school_id,
        student_id=cmd.student_id,
        adviser_id=placing.adviser_id,
        session_type=cmd.session_type,
        interval=placing.slot.interval,
        room=placing.room,
        booked_by=cmd.booked_by,
        referral=cmd.referral,
    )
    Diary(_appointments(placing.meeting), placing.agreement.session_types).book(appointment)
    place_key, seat = _seat(placing, appointment)
    stamp = datetime.now(UTC)
    referral = appointment.referral
    await (await uow.session.connection()).execute(
        _INSERT_APPOINTMENT,
        {
            "id": appointment.id,
            "school_id": appointment.school_id,
            "student_id": appointment.student_id,
            "adviser_id": appointment.adviser_id,
            "session_type": appointment.session_type.value,
            "starts_at": appointment.interval.start,
            "ends_at": appointment.interval.end,
            "minutes": appointment.interval.minutes,
            "location": appointment.room,
            "status": appointment.status.value,
            "revision": appointment.revision,
            "place_key": place_key,
            "seat": seat,
            "capacity": placing.config.capacity,
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
    if placing.around.holds_offer:
        await accept_offers_taken(uow, appointment)
    await uow.emit(_event(AppointmentConfirmed, appointment, placing.school), key=appointment.id)
    await uow.commit()
    return appointment


_INSERT_APPOINTMENT = appointments.insert()


def _check_student(student: Student | None, cmd: BookSlot) -> Student:
    if student is None or student.school_id != cmd.school_id:
        raise UnknownStudent()
    return student


def _appointments(rows: list[Any]) -> list[Appointment]:
    return [to_appointment(row) for row in rows]


async def _choose_adviser(
    s: AsyncSession,
    agreement: PartnershipAgreement,
    school: SchoolRecord,
    slot: Slot,
    student: Student,
    cmd: BookSlot,
    around: AroundSlot,
) -> str:
    """The domain's allocation, fed from the one read and the cached reference data."""
    kinds = await reference.adviser_kinds(s, slot.adviser_ids)
    day = school.calendar.local_date(slot.start)
    agreed = reference.agreed_minutes(s, agreement, school.calendar, day)
    loads = {
        adviser_id: AdviserLoad(around.booked_minutes.get(adviser_id, 0), agreed[adviser_id])
        for adviser_id in slot.adviser_ids
    }
    candidates = [
        Candidate(adviser_id, AdviserKind(kind), cmd.school_id, (slot.interval,))
        for adviser_id in slot.adviser_ids
        for kind in kinds.get(adviser_id, [AdviserKind.GUIDANCE.value])
    ]
    history = await _seen(s, student, slot.adviser_ids) if student.is_priority else []
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


@dataclass(frozen=True)
class _Seen:
    """A session the student attended with one of the candidate advisers."""

    adviser_id: str
    student_id: str
    interval: Interval
    status: AppointmentStatus = AppointmentStatus.ATTENDED


async def _seen(s: AsyncSession, student: Student, adviser_ids: Sequence[str]) -> list[_Seen]:
    """Continuity is kept for targeted students only: who among these advisers they saw."""
    rows = await s.execute(
        sa.select(
            appointments.c.adviser_id, appointments.c.starts_at, appointments.c.ends_at
        ).where(
            appointments.c.student_id == student.student_id,
            appointments.c.status == AppointmentStatus.ATTENDED.value,
            appointments.c.adviser_id.in_(adviser_ids),
        )
    )
    return [
        _Seen(row.adviser_id, student.student_id, Interval(row.starts_at, row.ends_at))
        for row in rows
    ]


def _seat(placing: _Placing, appointment: Appointment) -> tuple[str, int]:
    """The shared-session key and a free seat; one-to-one sessions key on their id.

    The rows the appointment meets hold every seat of its session.
    """
    capacity = placing.config.capacity
    if capacity == 1:
        return appointment.id, 1
    key = _place_key(appointment)
    taken = {row.seat for row in placing.meeting if row.place_key == key}
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
    school = await reference.school(s, cancelled.school_id)
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
    """Move to another free slot of the same type; same id, revision bumped, events follow.

    The move decides its place exactly as a booking does, and retries the same way when a
    concurrent booking takes it first.
    """
    async with new_uow() as uow:
        row = await get_appointment(uow.session, cmd.appointment_id)
    if row is None:
        raise UnknownAppointment(cmd.appointment_id)
    as_booking = BookSlot(
        row.school_id,
        SessionType(row.session_type),
        cmd.starts_at,
        row.student_id,
        cmd.by_role,
    )
    return await _with_retries(
        new_uow, as_booking, lambda uow: _reschedule_once(uow, cmd, now, offer_ttl)
    )


async def _reschedule_once(
    uow: UnitOfWork, cmd: RescheduleAppointment, now: datetime, offer_ttl: timedelta
) -> Appointment:
    row = await get_appointment(uow.session, cmd.appointment_id, for_update=True)
    if row is None:
        raise UnknownAppointment(cmd.appointment_id)
    current = to_appointment(row)
    booking = BookSlot(
        current.school_id,
        current.session_type,
        cmd.starts_at,
        current.student_id,
        cmd.by_role,
        referral=current.referral,
    )
    placing = await _place_for(uow, booking, now, moving=current)
    diary = Diary([*_appointments(placing.meeting), current], placing.agreement.session_types)
    moved = diary.reschedule(
        current.id,
        placing.slot.interval,
        placing.adviser_id,
        now,
        placing.room,
        by_role=cmd.by_role,
    )
    place_key, seat = _seat(placing, moved)
    await _save(
        uow.session,
        moved,
        adviser_id=moved.adviser_id,
        starts_at=moved.interval.start,
        ends_at=moved.interval.end,
        minutes=moved.interval.minutes,
        location=moved.room,
        place_key=place_key,
        seat=seat,
        capacity=placing.config.capacity,
    )
    if placing.around.holds_offer:
        await accept_offers_taken(uow, moved)
    await uow.emit(_event(AppointmentRescheduled, moved, placing.school), key=moved.id)
    await offer_freed_place(uow, current, now, offer_ttl)
    await uow.commit()
    return moved


async def record_attendance(uow: UnitOfWork, cmd: RecordAttendance, now: datetime) -> Appointment:
    """The PA records whether the student came; a no-show is chased at once."""
    s = uow.session
    row = await get_appointment(s, cmd.appointment_id, for_update=True)
    if row is None:
        raise UnknownAppointment(cmd.appointment_id)
    updated, chase = to_appointment(row).mark_attendance(cmd.attended, now)
    school = await reference.school(s, updated.school_id)
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
