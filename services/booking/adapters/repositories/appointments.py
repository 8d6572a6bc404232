"""Appointments in and out of their table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import appointments
from services.booking.domain.appointments import (
    Appointment,
    AttendanceRecord,
    Referral,
    Urgency,
)
from services.booking.domain.model import (
    AdviserKind,
    AppointmentStatus,
    Interval,
    Role,
    SessionType,
)
from services.booking.domain.placement import Seat

_INSERT = appointments.insert()


def appointment_from_row(row: Any) -> Appointment:
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


class AppointmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, appointment_id: str, *, for_update: bool = False) -> Appointment | None:
        """One appointment; `for_update` locks its row until the transaction ends (PostgreSQL)."""
        query = sa.select(appointments).where(appointments.c.id == appointment_id)
        bind = self._session.bind
        if for_update and bind is not None and bind.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        return appointment_from_row(row) if row is not None else None

    async def of_student(self, student_id: str) -> list[Appointment]:
        """The student's appointments, earliest first."""
        rows = await self._session.execute(
            sa.select(appointments)
            .where(appointments.c.student_id == student_id)
            .order_by(appointments.c.starts_at)
        )
        return [appointment_from_row(row) for row in rows]

    async def at_school(self, school_id: str, start: datetime, end: datetime) -> list[Appointment]:
        """The school's appointments starting in [start, end), in any status."""
        rows = await self._session.execute(
            sa.select(appointments).where(
                appointments.c.school_id == school_id,
                appointments.c.starts_at >= start,
                appointments.c.starts_at < end,
            )
        )
        return [appointment_from_row(row) for row in rows]

    async def of_adviser(
        self, adviser_id: str, start: datetime, end: datetime
    ) -> list[Appointment]:
        """The adviser's appointments starting in [start, end) at any school, earliest first."""
        rows = await self._session.execute(
            sa.select(appointments)
            .where(
                appointments.c.adviser_id == adviser_id,
                appointments.c.starts_at >= start,
                appointments.c.starts_at < end,
            )
            .order_by(appointments.c.starts_at)
        )
        return [appointment_from_row(row) for row in rows]

    async def add(self, appointment: Appointment, seat: Seat, now: datetime) -> None:
        referral = appointment.referral
        connection = await self._session.connection()
        await connection.execute(
            _INSERT,
            {
                **_place(appointment, seat),
                "id": appointment.id,
                "school_id": appointment.school_id,
                "student_id": appointment.student_id,
                "session_type": appointment.session_type.value,
                "status": appointment.status.value,
                "revision": appointment.revision,
                "booked_by": appointment.booked_by.value,
                "referral_reason": referral.reason if referral else None,
                "referral_urgency": referral.urgency.value if referral else None,
                "required_kind": referral.required_kind.value
                if referral and referral.required_kind
                else None,
                "created_at": now,
                "updated_at": now,
            },
        )

    async def update(
        self, appointment: Appointment, now: datetime, *, seat: Seat | None = None
    ) -> None:
        """Write the appointment's new state; with `seat`, its new place (a move) too."""
        values: dict[str, Any] = {
            "status": appointment.status.value,
            "revision": appointment.revision,
            "cancel_reason": appointment.cancel_reason,
            "cancelled_by": appointment.cancelled_by.value if appointment.cancelled_by else None,
            "attendance_recorded_at": appointment.attendance.recorded_at
            if appointment.attendance
            else None,
            "updated_at": now,
        }
        if seat is not None:
            values |= _place(appointment, seat)
        await self._session.execute(
            appointments.update().where(appointments.c.id == appointment.id).values(**values)
        )


def _place(appointment: Appointment, seat: Seat) -> dict[str, Any]:
    return {
        "adviser_id": appointment.adviser_id,
        "starts_at": appointment.interval.start,
        "ends_at": appointment.interval.end,
        "minutes": appointment.interval.minutes,
        "location": appointment.room,
        "place_key": seat.place_key,
        "seat": seat.number,
        "capacity": seat.capacity,
    }
