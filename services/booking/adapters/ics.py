"""A PA's feed written as iCalendar with `icalendar`.

Times carry TZID=Europe/London with a VTIMEZONE bounded to the feed's window (so clients
that ignore the zone database still get summer time right), never floating. DTSTAMP is
the entry's last change, so the same entries always make the same bytes (and ETag).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vDuration

from services.booking.domain.calendars import FeedEntry
from services.booking.domain.model import Interval

LONDON = ZoneInfo("Europe/London")
REFRESH = timedelta(hours=1)


def render_feed(
    entries: Sequence[FeedEntry], window: Interval, *, name: str, base_url: str
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Signpost//Careers appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Europe/London")
    calendar.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    zone = Timezone.from_tzinfo(
        LONDON,
        "Europe/London",
        first_date=(window.start - timedelta(days=1)).date(),
        last_date=(window.end + timedelta(days=1)).date(),
    )
    calendar.add_component(zone)
    for entry in entries:
        calendar.add_component(_event(entry, base_url))
    body: bytes = calendar.to_ical()
    return body


def _event(entry: FeedEntry, base_url: str) -> Event:
    event = Event()
    event.add("uid", f"{entry.uid}@signpost")
    event.add("dtstamp", entry.last_modified)
    event.add("last-modified", entry.last_modified)
    event.add("sequence", entry.sequence)
    event.add("status", entry.status.value)
    event.add("summary", entry.summary)
    event.add("location", entry.location)
    event.add("dtstart", entry.interval.start.astimezone(LONDON))
    event.add("dtend", entry.interval.end.astimezone(LONDON))
    event.add("transp", "OPAQUE")
    event.add("url", f"{base_url}{entry.page_path}")
    return event
