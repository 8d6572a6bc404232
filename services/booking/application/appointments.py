"""Use cases on appointments. Each runs in one unit of work with its outgoing events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from services.booking.adapters.orm import appointments, schools, students
from shared.events.booking import AppointmentConfirmed
from shared.uow import UnitOfWork


class AppointmentConflict(Exception):
    """The adviser or the student already has an appointment overlapping this time."""


class UnknownStudent(Exception):
    pass


@dataclass(frozen=True)
class BookAppointment:
    school_id: str
    student_id: str
    adviser_id: str
    session_type: str
    starts_at: datetime
    ends_at: datetime
    location: str


@dataclass(frozen=True)
class Booked:
    appointment_id: str
    revision: int
    event: AppointmentConfirmed


async def book_appointment(uow: UnitOfWork, cmd: BookAppointment) -> Booked:
    s = uow.session
    school = (await s.execute(sa.select(schools).where(schools.c.id == cmd.school_id))).first()
    student = await s.scalar(
        sa.select(students.c.id).where(
            students.c.id == cmd.student_id, students.c.school_id == cmd.school_id
        )
    )
    if school is None or student is None:
        raise UnknownStudent
    clash = await s.scalar(
        sa.select(sa.func.count())
        .select_from(appointments)
        .where(
            appointments.c.status == "confirmed",
            sa.or_(
                appointments.c.adviser_id == cmd.adviser_id,
                appointments.c.student_id == cmd.student_id,
            ),
            appointments.c.starts_at < cmd.ends_at,
            appointments.c.ends_at > cmd.starts_at,
        )
    )
    if clash:
        raise AppointmentConflict
    appointment_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    await s.execute(
        appointments.insert().values(
            id=appointment_id,
            school_id=cmd.school_id,
            student_id=cmd.student_id,
            adviser_id=cmd.adviser_id,
            session_type=cmd.session_type,
            starts_at=cmd.starts_at,
            ends_at=cmd.ends_at,
            location=cmd.location,
            status="confirmed",
            revision=1,
            created_at=now,
            updated_at=now,
        )
    )
    event = AppointmentConfirmed(
        appointment_id=appointment_id,
        revision=1,
        school_id=cmd.school_id,
        student_id=cmd.student_id,
        adviser_id=cmd.adviser_id,
        session_type=cmd.session_type,
        starts_at=cmd.starts_at.astimezone(UTC),
        ends_at=cmd.ends_at.astimezone(UTC),
        location=cmd.location,
        time_zone=school.time_zone,
    )
    await uow.emit(event, key=appointment_id)
    try:
        await uow.commit()
    except IntegrityError as exc:  # the exclusion constraint caught a concurrent booking
        raise AppointmentConflict from exc
    return Booked(appointment_id, 1, event)
