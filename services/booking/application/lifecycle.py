"""After booking: cancelling an appointment and recording whether the student came."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.booking.application.appointment_events import appointment_event
from services.booking.application.ports import BookingUnit
from services.booking.application.waitlist import offer_freed_place
from services.booking.domain.appointments import Appointment
from services.booking.domain.errors import UnknownAppointment, UnknownSchool
from services.booking.domain.model import Role
from shared.events.booking import (
    AppointmentAttendanceRecorded,
    AppointmentCancelled,
    NoShowChase,
)


@dataclass(frozen=True)
class CancelAppointment:
    appointment_id: str
    by_role: Role
    reason: str | None


@dataclass(frozen=True)
class RecordAttendance:
    appointment_id: str
    attended: bool


async def cancel_appointment(
    cmd: CancelAppointment, uow: BookingUnit, now: datetime, offer_ttl: timedelta
) -> Appointment:
    async with uow:
        current = await uow.appointments.get(cmd.appointment_id, for_update=True)
        if current is None:
            raise UnknownAppointment(cmd.appointment_id)
        cancelled = await cancel_in(uow, current, cmd.by_role, cmd.reason, now, offer_ttl)
        await uow.commit()
    return cancelled


async def cancel_in(
    uow: BookingUnit,
    current: Appointment,
    by_role: Role,
    reason: str | None,
    now: datetime,
    offer_ttl: timedelta,
) -> Appointment:
    """Cancel `current` inside the caller's unit of work (which commits); offer the time on."""
    cancelled = current.cancel(by_role, reason, now)
    school = await uow.schools.get(cancelled.school_id)
    if school is None:
        raise UnknownSchool()
    await uow.appointments.update(cancelled, now)
    await uow.emit(
        appointment_event(
            AppointmentCancelled, cancelled, school.calendar.zone, cancelled_by=by_role.value
        ),
        key=cancelled.id,
    )
    await offer_freed_place(uow, cancelled, now, offer_ttl)
    return cancelled


async def record_attendance(cmd: RecordAttendance, uow: BookingUnit, now: datetime) -> Appointment:
    """The PA records whether the student came; a no-show is chased at once."""
    async with uow:
        current = await uow.appointments.get(cmd.appointment_id, for_update=True)
        if current is None:
            raise UnknownAppointment(cmd.appointment_id)
        updated, chase = current.mark_attendance(cmd.attended, now)
        school = await uow.schools.get(updated.school_id)
        if school is None:
            raise UnknownSchool()
        await uow.appointments.update(updated, now)
        await uow.emit(
            appointment_event(
                AppointmentAttendanceRecorded, updated, school.calendar.zone, attended=cmd.attended
            ),
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
