"""Reading a feed back strictly, with parsers independent of the `icalendar` that wrote it.

Every content line is checked against RFC 5545's framing (CRLF endings, folded at 75
octets, no bare control characters), no event's DTSTART/DTEND may float, and the calendar must
parse with both `vobject` and `ical`, which must agree on every start.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import vobject
from ical.calendar_stream import IcsCalendarStream

_NAME = re.compile(r"^[A-Za-z0-9-]+[;:]")


def check_lines(body: bytes) -> None:
    assert body.endswith(b"\r\n"), "the feed must end with CRLF"
    lines = body.split(b"\r\n")[:-1]
    for number, line in enumerate(lines, 1):
        assert b"\n" not in line and b"\r" not in line, f"line {number}: bare LF or CR"
        assert len(line) <= 75, f"line {number}: {len(line)} octets, more than 75"
        if line[:1] in (b" ", b"\t"):
            continue  # a folded continuation
        assert _NAME.match(line.decode()), f"line {number}: not NAME[;params]:value"
    unfolded = re.sub(rb"\r\n[ \t]", b"", body).decode()
    in_event = False
    for content in unfolded.split("\r\n"):
        in_event = content == "BEGIN:VEVENT" or (in_event and content != "END:VEVENT")
        if in_event and content.startswith(("DTSTART", "DTEND")):
            assert ";TZID=" in content or content.endswith("Z") or "VALUE=DATE" in content, (
                f"floating time: {content}"
            )


def strict_events(body: bytes) -> list[dict[str, Any]]:
    """The feed's VEVENTs, as vobject reads them, after the line check and `ical`'s parse."""
    check_lines(body)
    text = body.decode("utf-8")
    calendar = vobject.readOne(text, validate=True)
    strict = IcsCalendarStream.calendar_from_ics(text)
    events = []
    for vevent in getattr(calendar, "vevent_list", []):
        start: datetime = vevent.dtstart.value
        assert start.tzinfo is not None
        events.append(
            {
                "uid": vevent.uid.value,
                "sequence": int(vevent.sequence.value),
                "status": vevent.status.value,
                "summary": vevent.summary.value,
                "description": vevent.description.value if hasattr(vevent, "description") else "",
                "location": vevent.location.value,
                "start": start,
                "end": vevent.dtend.value,
                "last_modified": vevent.last_modified.value,
            }
        )
    assert sorted(e["start"] for e in events) == sorted(e.start_datetime for e in strict.events)
    return events
