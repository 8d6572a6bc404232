"""Where a booking goes: the one decision between reading what is there and saving.

`place(request, context)` is pure. The context holds everything the decision may look at,
read beforehand (see `PlacementContext`); the answer is the appointment to save with its
seat, or the refusal. The checks come in a fixed order: school, student, agreement and
session type, booking window, the slot itself, the adviser, then the diary's clash rules.
An appointment being moved keeps its adviser when they are free at the new time, and does
not stand in its own way.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from services.booking.domain.agreement import PartnershipAgreement
from services.booking.domain.allocation import (
    AdviserLoad,
    AllocationRequest,
    Candidate,
    PastSession,
    allocate_adviser,
)
from services.booking.domain.appointments import Appointment, Diary, Referral
from services.booking.domain.availability import (
    GridSlot,
    SeatsTaken,
    Slot,
    check_booking_window,
    slots_at,
    visible_slots,
)
from services.booking.domain.calendar import SchoolCalendar
from services.booking.domain.errors import SlotUnavailable, UnknownSchool, UnknownStudent
from services.booking.domain.model import AdviserKind, Interval, Role, SessionType, Student, as_utc


@dataclass(frozen=True)
class PlacementRequest:
    """A booking (or, with `moving`, a move of that appointment) asked for at `now`."""

    appointment_id: str
    school_id: str
    session_type: SessionType
    starts_at: datetime
    student_id: str
    booked_by: Role
    now: datetime
    requested_adviser_id: str | None = None
    referral: Referral | None = None
    moving: Appointment | None = None

    @classmethod
    def move(
        cls, current: Appointment, starts_at: datetime, by: Role, now: datetime
    ) -> PlacementRequest:
        return cls(
            appointment_id=current.id,
            school_id=current.school_id,
            session_type=current.session_type,
            starts_at=starts_at,
            student_id=current.student_id,
            booked_by=by,
            now=now,
            referral=current.referral,
            moving=current,
        )


@dataclass(frozen=True)
class PlacementContext:
    """What `place` may look at, as read for one request.

    `calendar` is None for an unknown school, and without an agreement offering the session
    type only `student` is read. Otherwise: the day's `grid` of the agreement, what holds
    the advisers offering that start (`busy`, shared-session `seats`, the day's
    `booked_minutes`), whether the student holds a waitlist offer for it, the advisers'
    kinds and agreed minutes, a targeted student's sessions with them (`history`), and the
    appointments the new one could meet (`meeting`) with the seats held in each shared
    session (`seats_held`, by place key).
    """

    calendar: SchoolCalendar | None
    agreement: PartnershipAgreement | None = None
    student: Student | None = None
    grid: Mapping[datetime, Sequence[GridSlot]] = field(default_factory=dict)
    busy: Mapping[str, Sequence[Interval]] = field(default_factory=dict)
    seats: SeatsTaken = field(default_factory=dict)
    booked_minutes: Mapping[str, int] = field(default_factory=dict)
    holds_offer: bool = False
    adviser_kinds: Mapping[str, Sequence[AdviserKind]] = field(default_factory=dict)
    agreed_minutes: Mapping[str, int] = field(default_factory=dict)
    history: Sequence[PastSession] = ()
    meeting: Sequence[Appointment] = ()
    seats_held: Mapping[str, frozenset[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Seat:
    """The shared-session key, the seat number in it, and the session's capacity.

    Seat numbers only let the database's unique index count heads; a one-to-one
    appointment keys on its own id.
    """

    place_key: str
    number: int
    capacity: int


@dataclass(frozen=True)
class Placement:
    """The appointment to save, its seat, and the school's zone its messages are told in."""

    appointment: Appointment
    seat: Seat
    accepts_offer: bool  # the student held a waitlist offer for this start
    zone: ZoneInfo


def place(request: PlacementRequest, context: PlacementContext) -> Placement:
    """Decide where `request` goes, or raise the refusal (see the module's docstring)."""
    if context.calendar is None:
        raise UnknownSchool()
    student = context.student
    if student is None or student.school_id != request.school_id:
        raise UnknownStudent()
    agreement = context.agreement
    if agreement is None:
        raise SlotUnavailable()
    config = agreement.config(request.session_type)
    now = request.now
    check_booking_window(agreement, request.starts_at, now)
    start = as_utc(request.starts_at)
    slots = slots_at(
        agreement, request.session_type, context.grid, start, now, context.busy, context.seats
    )
    if not request.booked_by.is_staff:
        slots = visible_slots(slots, student.is_priority, now)
    if not slots:
        raise SlotUnavailable()
    slot = slots[0]
    moving = request.moving
    if moving is not None and moving.adviser_id in slot.adviser_ids:
        adviser_id = moving.adviser_id
    else:
        adviser_id = _allocate(request, context, agreement, slot, student)
    room = slot.room_for(adviser_id)
    if moving is None:
        appointment = Diary(context.meeting, agreement.session_types).book(
            Appointment(
                id=request.appointment_id,
                school_id=request.school_id,
                student_id=request.student_id,
                adviser_id=adviser_id,
                session_type=request.session_type,
                interval=slot.interval,
                room=room,
                booked_by=request.booked_by,
                referral=request.referral,
            )
        )
    else:
        diary = Diary([*context.meeting, moving], agreement.session_types)
        appointment = diary.reschedule(
            moving.id, slot.interval, adviser_id, now, room, by_role=request.booked_by
        )
    seat = _seat(appointment, config.capacity, context)
    return Placement(appointment, seat, context.holds_offer, context.calendar.zone)


def _allocate(
    request: PlacementRequest,
    context: PlacementContext,
    agreement: PartnershipAgreement,
    slot: Slot,
    student: Student,
) -> str:
    """The domain's allocation among the slot's advisers."""
    loads = {
        adviser_id: AdviserLoad(
            context.booked_minutes.get(adviser_id, 0), context.agreed_minutes[adviser_id]
        )
        for adviser_id in slot.adviser_ids
    }
    candidates = [
        Candidate(adviser_id, kind, request.school_id, (slot.interval,))
        for adviser_id in slot.adviser_ids
        for kind in context.adviser_kinds.get(adviser_id, (AdviserKind.GUIDANCE,))
    ]
    allocation = AllocationRequest(
        school_id=request.school_id,
        student_id=student.student_id,
        interval=slot.interval,
        required_kind=request.referral.required_kind if request.referral else None,
        priority_student=student.is_priority,
        requested_adviser_id=request.requested_adviser_id,
        requests_allowed=agreement.adviser_requests_allowed,
    )
    history = context.history if student.is_priority else ()
    return allocate_adviser(allocation, candidates, history, loads).adviser_id


def place_key(appointment: Appointment) -> str:
    """The key shared by every seat of one shared session."""
    return (
        f"{appointment.adviser_id}/{appointment.session_type.value}/"
        f"{appointment.interval.start.isoformat()}"
    )


def _seat(appointment: Appointment, capacity: int, context: PlacementContext) -> Seat:
    if capacity == 1:
        return Seat(appointment.id, 1, 1)
    key = place_key(appointment)
    taken = context.seats_held.get(key, frozenset())
    return Seat(key, free_seat(taken, capacity, appointment.student_id), capacity)


def free_seat(taken: frozenset[int], capacity: int, student_id: str) -> int:
    """One of the free seats, chosen by the student's id; `capacity + 1` (which the seat
    check refuses) when the session is full.

    Students joining at the same moment would all take the lowest free number and all but
    one would lose the race; spreading them over the free numbers lets most of them in at
    the first attempt.
    """
    free = sorted(set(range(1, capacity + 1)) - taken)
    if not free:
        return capacity + 1
    return free[zlib.crc32(student_id.encode()) % len(free)]
