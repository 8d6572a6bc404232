"""Booking a slot: read what the decision needs, let the domain place it, save and emit.

The domain decides (`domain.placement.place`); the database is the final guard:
PostgreSQL's exclusion constraints and the unique seat index refuse what a concurrent
transaction slipped past the domain's check, and SQLite's `BEGIN IMMEDIATE` makes the check
and the insert one step. A booking beaten to its place starts again from the reads.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from services.booking.application.appointment_events import appointment_event
from services.booking.application.ports import BookingUnit, LostRace
from services.booking.application.waitlist import accept_offers_taken
from services.booking.domain.appointments import Appointment, Referral
from services.booking.domain.errors import SlotTaken, StudentAlreadyBooked
from services.booking.domain.model import Role, SessionType
from services.booking.domain.placement import PlacementRequest, place
from shared.events.booking import AppointmentConfirmed

# Each lost race means another booking committed (or the database broke a deadlock), and the
# next attempt re-reads, so attempts run out only under a storm on one slot; the cap keeps a
# pathological case from looping.
ATTEMPTS = 10


@dataclass(frozen=True)
class BookSlot:
    school_id: str
    session_type: SessionType
    starts_at: datetime
    student_id: str
    booked_by: Role
    requested_adviser_id: str | None = None
    referral: Referral | None = None

    def request(self, appointment_id: str, now: datetime) -> PlacementRequest:
        return PlacementRequest(
            appointment_id=appointment_id,
            school_id=self.school_id,
            session_type=self.session_type,
            starts_at=self.starts_at,
            student_id=self.student_id,
            booked_by=self.booked_by,
            now=now,
            requested_adviser_id=self.requested_adviser_id,
            referral=self.referral,
        )


async def book_slot(cmd: BookSlot, uow: BookingUnit, now: datetime) -> Appointment:
    """Book `cmd`'s slot, trying again when a concurrent booking took the place first."""

    async def attempt() -> Appointment:
        async with uow:
            return await _book_once(cmd, uow, now)

    return await with_retries(uow, attempt, cmd.student_id, cmd.starts_at)


async def _book_once(cmd: BookSlot, uow: BookingUnit, now: datetime) -> Appointment:
    request = cmd.request(str(uuid.uuid4()), now)
    placement = place(request, await uow.placements.context_for(request))
    booked = placement.appointment
    await uow.appointments.add(booked, placement.seat, now)
    if placement.accepts_offer:
        await accept_offers_taken(uow, booked)
    await uow.emit(appointment_event(AppointmentConfirmed, booked, placement.zone), key=booked.id)
    await uow.commit()
    return booked


async def with_retries(
    uow: BookingUnit,
    attempt: Callable[[], Awaitable[Appointment]],
    student_id: str,
    starts_at: datetime,
) -> Appointment:
    """Run `attempt` (one unit of work) until it is not beaten to the place.

    A retry re-reads everything, so a slot offered by several advisers (or a group session
    with seats left) still goes to a free place; when none is left, the domain's own check
    refuses it.
    """
    for attempts_left in reversed(range(ATTEMPTS)):
        try:
            return await attempt()
        except Exception as exc:
            race = uow.lost_race(exc)
            if race is None:
                raise
            if race is LostRace.STUDENT:
                raise StudentAlreadyBooked(student_id, "") from exc
            if not attempts_left:
                raise SlotTaken("", starts_at) from exc
    raise AssertionError("unreachable")
