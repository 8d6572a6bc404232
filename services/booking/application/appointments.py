"""The appointment use cases' old import paths, kept for callers not yet moved.

Booking a slot is in `booking`, moving in `rescheduling`, cancelling and attendance in
`lifecycle`, the nearest free times in `availability`; rows become appointments in
`adapters.repositories.appointments`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.booking.adapters.repositories.appointments import appointment_from_row
from services.booking.adapters.uow import BookingUnitOfWork
from services.booking.application.lifecycle import cancel_in
from services.booking.domain.appointments import Appointment
from services.booking.domain.errors import SlotUnavailable
from services.booking.domain.model import Role
from shared.uow import UnitOfWork

to_appointment = appointment_from_row

__all__ = ["SlotUnavailable", "cancel_within", "to_appointment"]


async def cancel_within(
    uow: UnitOfWork,
    row: Any,
    by_role: Role,
    reason: str | None,
    now: datetime,
    offer_ttl: timedelta,
) -> Appointment:
    """Cancel the appointment `row` inside the caller's unit of work (which commits)."""
    joined = BookingUnitOfWork.joining(uow)
    return await cancel_in(joined, appointment_from_row(row), by_role, reason, now, offer_ttl)
