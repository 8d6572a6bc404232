"""Moving an appointment to another free slot of the same type: same id, revision bumped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.booking.application.appointment_events import appointment_event
from services.booking.application.booking import with_retries
from services.booking.application.ports import BookingUnit
from services.booking.application.waitlist import accept_offers_taken, offer_freed_place
from services.booking.domain.appointments import Appointment
from services.booking.domain.errors import UnknownAppointment
from services.booking.domain.model import Role, as_utc
from services.booking.domain.placement import PlacementRequest, place
from shared.events.booking import AppointmentRescheduled


@dataclass(frozen=True)
class RescheduleAppointment:
    appointment_id: str
    starts_at: datetime
    by_role: Role


async def reschedule_appointment(
    cmd: RescheduleAppointment, uow: BookingUnit, now: datetime, offer_ttl: timedelta
) -> Appointment:
    """The move decides its place exactly as a booking does, and tries again the same way
    when a concurrent booking takes it first; the time it leaves is offered on."""
    async with uow:
        current = await uow.appointments.get(cmd.appointment_id)
    if current is None:
        raise UnknownAppointment(cmd.appointment_id)
    if current.is_active and current.interval.start == as_utc(cmd.starts_at):
        return current  # already at that time: nothing moves, nobody is told of a change

    async def attempt() -> Appointment:
        async with uow:
            return await _reschedule_once(cmd, uow, now, offer_ttl)

    return await with_retries(uow, attempt, current.student_id, cmd.starts_at)


async def _reschedule_once(
    cmd: RescheduleAppointment, uow: BookingUnit, now: datetime, offer_ttl: timedelta
) -> Appointment:
    current = await uow.appointments.get(cmd.appointment_id, for_update=True)
    if current is None:
        raise UnknownAppointment(cmd.appointment_id)
    request = PlacementRequest.move(current, cmd.starts_at, cmd.by_role, now)
    placement = place(request, await uow.placements.context_for(request))
    moved = placement.appointment
    await uow.appointments.update(moved, now, seat=placement.seat)
    if placement.accepts_offer:
        await accept_offers_taken(uow, moved)
    await uow.emit(appointment_event(AppointmentRescheduled, moved, placement.zone), key=moved.id)
    await offer_freed_place(uow, current, now, offer_ttl)
    await uow.commit()
    return moved
