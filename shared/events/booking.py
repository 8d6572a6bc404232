"""Events booking publishes on `booking.events` about appointments.

`revision` increases with every change to an appointment, so a consumer that sees an older
revision after a newer one (possible when several relays share the outbox) ignores it.
Payloads say "careers appointment" in effect: no adviser kind, no reason for referral.
"""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from shared.events.envelope import EventPayload


class _AppointmentEvent(EventPayload):
    appointment_id: str
    revision: int = Field(ge=1)
    school_id: str
    student_id: str
    adviser_id: str
    session_type: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    location: str
    time_zone: str = "Europe/London"


class AppointmentConfirmed(_AppointmentEvent):
    event_type = "booking.appointment.confirmed"


class AppointmentRescheduled(_AppointmentEvent):
    event_type = "booking.appointment.rescheduled"


class AppointmentCancelled(_AppointmentEvent):
    event_type = "booking.appointment.cancelled"

    cancelled_by: str


class AppointmentAttendanceRecorded(_AppointmentEvent):
    event_type = "booking.appointment.attendance_recorded"

    attended: bool


class NoShowChase(EventPayload):
    """A student missed an appointment: chase them now, and tell the named member of staff."""

    event_type = "booking.appointment.no_show_chase"

    appointment_id: str
    school_id: str
    student_id: str
    coordinator_id: str | None
    starts_at: AwareDatetime


class WaitlistOfferMade(EventPayload):
    """A freed place is held for this student until `expires_at`: accept it or lose it."""

    event_type = "booking.waitlist.offer_made"

    offer_id: str
    school_id: str
    student_id: str
    session_type: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    location: str
    expires_at: AwareDatetime
    time_zone: str = "Europe/London"


class WaitlistOfferEnded(EventPayload):
    """An offer was accepted, declined or lapsed; a pending reminder about it can go."""

    event_type = "booking.waitlist.offer_ended"

    offer_id: str
    school_id: str
    student_id: str
    outcome: str = Field(pattern=r"^(accepted|declined|expired)$")


class DropInTurn(EventPayload):
    """It is this student's turn in the drop-in queue: come to the careers room now."""

    event_type = "booking.dropin.your_turn"

    session_id: str
    school_id: str
    student_id: str
    location: str


class AdviserClashDetected(EventPayload):
    """A PA's own calendar now shows them busy during an appointment already booked.

    For the school's staff and the PA to sort out; nothing is cancelled. Sent once per
    appointment revision; no student name, no reason for the busy time (it is not kept).
    """

    event_type = "booking.adviser.clash_detected"

    appointment_id: str
    revision: int = Field(ge=1)
    school_id: str
    adviser_id: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
