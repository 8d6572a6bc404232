"""Why a booking operation was refused: one exception class per failure a caller handles.

Each carries a plain-English message fit to show a student or member of staff (no adviser
specialism, no referral reason) and a stable `code` for the HTTP layer.
"""

from __future__ import annotations

from datetime import datetime


class BookingError(Exception):
    """Base class: a booking rule refused the operation."""

    code = "booking_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SlotTaken(BookingError):
    code = "slot_taken"

    def __init__(self, adviser_id: str, start: datetime) -> None:
        super().__init__("That time is no longer free with this adviser. Please pick another.")
        self.adviser_id = adviser_id
        self.start = start


class SlotUnavailable(BookingError):
    code = "slot_unavailable"

    def __init__(self) -> None:
        super().__init__("That time is not free to book. Please pick one of the other times.")


class SessionFull(BookingError):
    code = "session_full"

    def __init__(self, adviser_id: str, start: datetime, capacity: int) -> None:
        super().__init__(f"This session is full (all {capacity} places are taken).")
        self.adviser_id = adviser_id
        self.start = start
        self.capacity = capacity


class StudentAlreadyBooked(BookingError):
    code = "student_already_booked"

    def __init__(self, student_id: str, clashing_appointment_id: str) -> None:
        super().__init__("You already have a careers appointment at that time.")
        self.student_id = student_id
        self.clashing_appointment_id = clashing_appointment_id


class OutsideBookingWindow(BookingError):
    code = "outside_booking_window"

    def __init__(
        self, start: datetime, earliest: datetime, latest: datetime, now: datetime | None = None
    ) -> None:
        if start > latest:
            message = "That time is too far ahead to book yet. Please choose an earlier time."
        elif now is not None and start <= now:
            message = "That time has already passed. Please choose a later time."
        else:
            message = "That time is too soon to book. Please choose a later time."
        super().__init__(message)
        self.start = start
        self.earliest = earliest
        self.latest = latest


class CancellationTooLate(BookingError):
    code = "cancellation_too_late"

    def __init__(self, cutoff: datetime) -> None:
        super().__init__(
            "It is too late to cancel this appointment yourself; please speak to your "
            "careers coordinator."
        )
        self.cutoff = cutoff


class ReasonRequired(BookingError):
    code = "reason_required"

    def __init__(self) -> None:
        super().__init__("Staff must give a reason when cancelling an appointment.")


class InvalidTransition(BookingError):
    code = "invalid_transition"

    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"Cannot {action} an appointment that is {status.replace('_', ' ')}.")
        self.action = action
        self.status = status


class UnknownAppointment(BookingError):
    code = "unknown_appointment"

    def __init__(self, appointment_id: str) -> None:
        super().__init__("That appointment could not be found.")
        self.appointment_id = appointment_id


class NoAdviserAvailable(BookingError):
    code = "no_adviser_available"

    def __init__(self, why: str) -> None:
        super().__init__(f"No adviser can take this appointment: {why}.")
        self.why = why


class SessionTypeNotOffered(BookingError):
    code = "session_type_not_offered"

    def __init__(self, school_id: str, session_type: str) -> None:
        super().__init__("This school does not offer that kind of session.")
        self.school_id = school_id
        self.session_type = session_type


class AlreadyQueued(BookingError):
    code = "already_queued"

    def __init__(self, student_id: str) -> None:
        super().__init__("You are already in the queue for this drop-in session.")
        self.student_id = student_id


class NotInQueue(BookingError):
    code = "not_in_queue"

    def __init__(self, student_id: str) -> None:
        super().__init__("You are not waiting in this drop-in session's queue.")
        self.student_id = student_id


class UnknownStudent(BookingError):
    code = "unknown_student"

    def __init__(self) -> None:
        super().__init__("There is no such student at this school.")


class UnknownSchool(BookingError):
    code = "unknown_school"

    def __init__(self) -> None:
        super().__init__("There is no such school.")
