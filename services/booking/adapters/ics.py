"""A PA's feed written as iCalendar with `icalendar`.

Times carry TZID=Europe/London with a VTIMEZONE bounded to the feed's window (so clients
that ignore the zone database still get summer time right), never floating. DTSTAMP is
the entry's last change, so the same entries always make the same bytes (and ETag).

`icalendar` takes about half a millisecond an event, so each event's bytes are kept (by
the entry, which holds everything the event shows) and a feed where little changed is
mostly joined from them; only new or changed entries are written again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vDuration

from services.booking.domain.calendars import FeedEntry
from services.booking.domain.model import Interval

LONDON = ZoneInfo("Europe/London")
REFRESH = timedelta(hours=1)
END = b"END:VCALENDAR\r\n"


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
    head: bytes = calendar.to_ical()
    parts = [head[: -len(END)], _zone(window.start.date(), window.end.date())]
    parts += [_event_bytes(entry, base_url) for entry in entries]
    parts.append(END)
    return b"".join(parts)


@lru_cache(maxsize=16)
def _zone(first: date, last: date) -> bytes:
    zone = Timezone.from_tzinfo(
        LONDON,
        "Europe/London",
        first_date=first - timedelta(days=1),
        last_date=last + timedelta(days=1),
    )
    body: bytes = zone.to_ical()
    return body


@lru_cache(maxsize=50_000)
def _event_bytes(entry: FeedEntry, base_url: str) -> bytes:
    body: bytes = _event(entry, base_url).to_ical()
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
