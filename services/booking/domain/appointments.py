"""The appointment aggregate and the diary that keeps appointments from clashing.

An `Appointment` is immutable: each transition returns the next version with `revision` bumped,
which is what calendar feeds (SEQUENCE) and event consumers rely on to order changes.
The `Diary` holds the active appointments of the advisers and students it was loaded with and
refuses any clash; the database enforces the same invariants, the diary is the first line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from services.booking.domain.errors import (
    CancellationTooLate,
    InvalidTransition,
    OutsideBookingWindow,
    ReasonRequired,
    SessionFull,
    SlotTaken,
    StudentAlreadyBooked,
    UnknownAppointment,
)
from services.booking.domain.model import (
    DEFAULT_SESSION_TYPES,
    AdviserKind,
    AppointmentStatus,
    Interval,
    Role,
    SessionType,
    SessionTypeConfig,
    as_utc,
)

STUDENT_CANCELLATION_CUTOFF = timedelta(hours=24)


class Urgency(StrEnum):
    ROUTINE = "routine"
    SOON = "soon"
    URGENT = "urgent"


@dataclass(frozen=True)
class Referral:
    """Why a student was referred. Never shown to the student or put in a message."""

    reason: str
    urgency: Urgency = Urgency.ROUTINE
    required_kind: AdviserKind | None = None
    referred_by: Role = Role.COORDINATOR


@dataclass(frozen=True)
class AttendanceRecord:
    attended: bool
    recorded_at: datetime


@dataclass(frozen=True)
class Chase:
    """A missed appointment to follow up at once, by the student's channel and named staff."""

    appointment_id: str
    school_id: str
    student_id: str
    adviser_id: str
    starts_at: datetime


@dataclass(frozen=True)
class Appointment:
    id: str
    school_id: str
    student_id: str
    adviser_id: str
    session_type: SessionType
    interval: Interval
    room: str
    booked_by: Role
    status: AppointmentStatus = AppointmentStatus.CONFIRMED
    revision: int = 1
    referral: Referral | None = None
    cancel_reason: str | None = None
    cancelled_by: Role | None = None
    attendance: AttendanceRecord | None = None

    @property
    def is_active(self) -> bool:
        """Active appointments hold their adviser's and student's time."""
        return self.status is AppointmentStatus.CONFIRMED

    def cancel(
        self,
        by_role: Role,
        reason: str | None,
        now: datetime,
        student_cutoff: timedelta = STUDENT_CANCELLATION_CUTOFF,
    ) -> Appointment:
        """Students may cancel up to the cut-off; staff at any time but must say why."""
        self._require_confirmed("cancel")
        if by_role.is_staff and not (reason and reason.strip()):
            raise ReasonRequired()
        cutoff = self.interval.start - student_cutoff
        if not by_role.is_staff and as_utc(now) > cutoff:
            raise CancellationTooLate(cutoff)
        return replace(
            self,
            status=AppointmentStatus.CANCELLED,
            cancel_reason=reason.strip() if reason else None,
            cancelled_by=by_role,
            revision=self.revision + 1,
        )

    def reschedule(
        self,
        new_interval: Interval,
        new_adviser_id: str,
        now: datetime,
        room: str | None = None,
        *,
        by_role: Role,
        student_cutoff: timedelta = STUDENT_CANCELLATION_CUTOFF,
    ) -> Appointment:
        """Move the appointment, keeping its id so reminders and feeds follow it.

        Moving is cancelling this time and booking another, so a student meets the same
        cut-off as for cancelling; and nobody moves an appointment that has already started
        (attendance is recorded for it instead).
        """
        self._require_confirmed("reschedule")
        moment = as_utc(now)
        if moment >= self.interval.start:
            raise InvalidTransition("reschedule", "already started")
        cutoff = self.interval.start - student_cutoff
        if not by_role.is_staff and moment > cutoff:
            raise CancellationTooLate(cutoff)
        if new_interval.start <= moment:
            raise OutsideBookingWindow(new_interval.start, moment, moment, now=moment)
        return replace(
            self,
            interval=new_interval,
            adviser_id=new_adviser_id,
            room=room or self.room,
            revision=self.revision + 1,
        )

    def mark_attendance(self, attended: bool, now: datetime) -> tuple[Appointment, Chase | None]:
        """Record attendance once the appointment has started; a no-show yields a chase."""
        self._require_confirmed("record attendance for")
        if as_utc(now) < self.interval.start:
            raise InvalidTransition("record attendance for", "not started yet")
        status = AppointmentStatus.ATTENDED if attended else AppointmentStatus.NO_SHOW
        updated = replace(
            self,
            status=status,
            attendance=AttendanceRecord(attended, as_utc(now)),
            revision=self.revision + 1,
        )
        if attended:
            return updated, None
        chase = Chase(
            self.id, self.school_id, self.student_id, self.adviser_id, self.interval.start
        )
        return updated, chase

    def _require_confirmed(self, action: str) -> None:
        if not self.is_active:
            raise InvalidTransition(action, self.status.value)


class Diary:
    """Active appointments indexed by adviser and by student, refusing every clash.

    Two active appointments may overlap for an adviser only when both are places in the same
    shared session: same session type, same interval, with capacity to spare. A student may
    never have two overlapping active appointments.
    """

    def __init__(
        self,
        appointments: Iterable[Appointment] = (),
        session_types: Mapping[SessionType, SessionTypeConfig] = DEFAULT_SESSION_TYPES,
    ) -> None:
        self._session_types = session_types
        self._by_id: dict[str, Appointment] = {}
        self._by_adviser: dict[str, set[str]] = defaultdict(set)
        self._by_student: dict[str, set[str]] = defaultdict(set)
        for appointment in appointments:
            if appointment.is_active:
                self._add(appointment)

    def get(self, appointment_id: str) -> Appointment:
        try:
            return self._by_id[appointment_id]
        except KeyError:
            raise UnknownAppointment(appointment_id) from None

    def for_adviser(self, adviser_id: str) -> list[Appointment]:
        return self._sorted(self._by_adviser.get(adviser_id, set()))

    def for_student(self, student_id: str) -> list[Appointment]:
        return self._sorted(self._by_student.get(student_id, set()))

    def active(self) -> list[Appointment]:
        return self._sorted(set(self._by_id))

    def book(self, appointment: Appointment) -> Appointment:
        """Add a new confirmed appointment if neither its adviser nor its student is taken."""
        if not appointment.is_active or appointment.id in self._by_id:
            raise InvalidTransition("book", "already booked or not confirmed")
        self._check_clashes(appointment)
        self._add(appointment)
        return appointment

    def cancel(
        self, appointment_id: str, by_role: Role, reason: str | None, now: datetime
    ) -> Appointment:
        cancelled = self.get(appointment_id).cancel(by_role, reason, now)
        self._remove(appointment_id)
        return cancelled

    def reschedule(
        self,
        appointment_id: str,
        new_interval: Interval,
        new_adviser_id: str,
        now: datetime,
        room: str | None = None,
        *,
        by_role: Role,
    ) -> Appointment:
        moved = self.get(appointment_id).reschedule(
            new_interval, new_adviser_id, now, room, by_role=by_role
        )
        self._check_clashes(moved)
        self._remove(appointment_id)
        self._add(moved)
        return moved

    def _check_clashes(self, candidate: Appointment) -> None:
        for other in self.for_student(candidate.student_id):
            if other.id != candidate.id and other.interval.overlaps(candidate.interval):
                raise StudentAlreadyBooked(candidate.student_id, other.id)
        clashing = [
            other
            for other in self.for_adviser(candidate.adviser_id)
            if other.id != candidate.id and other.interval.overlaps(candidate.interval)
        ]
        if clashing:
            self._check_shared_session(candidate, clashing)

    def _check_shared_session(self, candidate: Appointment, clashing: list[Appointment]) -> None:
        """Overlap is allowed only as another place in the same shared session."""
        config = self._session_types.get(candidate.session_type)
        same_session = all(
            other.session_type is candidate.session_type and other.interval == candidate.interval
            for other in clashing
        )
        if config is None or not config.is_shared or not same_session:
            raise SlotTaken(candidate.adviser_id, candidate.interval.start)
        if len(clashing) >= config.capacity:
            raise SessionFull(candidate.adviser_id, candidate.interval.start, config.capacity)

    def _add(self, appointment: Appointment) -> None:
        self._by_id[appointment.id] = appointment
        self._by_adviser[appointment.adviser_id].add(appointment.id)
        self._by_student[appointment.student_id].add(appointment.id)

    def _remove(self, appointment_id: str) -> None:
        appointment = self._by_id.pop(appointment_id)
        self._by_adviser[appointment.adviser_id].discard(appointment_id)
        self._by_student[appointment.student_id].discard(appointment_id)

    def _sorted(self, ids: set[str]) -> list[Appointment]:
        return sorted((self._by_id[i] for i in ids), key=lambda a: (a.interval, a.id))
