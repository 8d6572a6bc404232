"""Calendar invitations (RFC 5546) attached to appointment emails.

An appointment keeps one UID for life; each revision raises SEQUENCE, so a calendar replaces
the event when it is moved (METHOD:REQUEST) and removes it when cancelled (METHOD:CANCEL).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from icalendar import Calendar, Event, vCalAddress


def invitation(
    context: dict[str, Any], *, method: str, organizer: str, attendee: str, now: datetime
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Signpost//Careers appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method.upper())
    event = Event()
    event.add("uid", f"{context['appointment_id']}@signpost")
    event.add("sequence", int(context.get("revision", 1)))
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", datetime.fromisoformat(context["starts_at"]).astimezone(UTC))
    event.add("dtend", datetime.fromisoformat(context["ends_at"]).astimezone(UTC))
    event.add("summary", "Careers appointment")
    event.add("location", context.get("location", ""))
    event.add("status", "CANCELLED" if method.lower() == "cancel" else "CONFIRMED")
    event.add("organizer", vCalAddress(f"mailto:{organizer}"))
    event.add("attendee", vCalAddress(f"mailto:{attendee}"), parameters={"ROLE": "REQ-PARTICIPANT"})
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical
