"""The message-safe view of an appointment that every appointment event carries."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from services.booking.domain.appointments import Appointment


def appointment_event(
    event_type: Any, appointment: Appointment, zone: ZoneInfo, **extra: Any
) -> Any:
    """No adviser kind, no referral reason: only what reminders and feeds need."""
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
        time_zone=zone.key,
        **extra,
    )
