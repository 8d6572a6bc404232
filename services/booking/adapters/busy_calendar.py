"""A published calendar read as busy time, with `icalendar` and `recurring-ical-events`.

Recurring events are expanded over the window (RRULE, RDATE, EXDATE and RECURRENCE-ID
overrides); X-WR-TIMEZONE calendars (Google's) are made standard first. Transparent and
cancelled events are free time. All-day and floating times are read in the calendar's own
zone (X-WR-TIMEZONE), else London's. Only the intervals leave this module, never a title.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import recurring_ical_events
from icalendar import Calendar

from services.booking.application.calendar_import import CalendarUnavailable
from services.booking.domain.calendars import clipped
from services.booking.domain.model import Interval

LONDON = ZoneInfo("Europe/London")
MAX_OCCURRENCES = 20_000


def _unreadable() -> CalendarUnavailable:
    return CalendarUnavailable("unreadable", "the calendar is not a readable iCalendar file")


def busy_intervals(body: bytes, window: Interval) -> list[Interval]:
    """The busy time `body` shows inside `window`, merged."""
    try:
        calendar = Calendar.from_ical(body)
    except ValueError:
        raise _unreadable() from None
    if not isinstance(calendar, Calendar) or calendar.name != "VCALENDAR":
        raise _unreadable()
    zone = _zone(calendar)
    busy: list[Interval] = []
    try:
        occurrences = recurring_ical_events.of(calendar, skip_bad_series=True).after(window.start)
        for count, event in enumerate(occurrences):
            if count >= MAX_OCCURRENCES:
                raise CalendarUnavailable(
                    "too_many_events", f"the calendar has over {MAX_OCCURRENCES} events ahead"
                )
            start, end = _instant(event.start, zone), _instant(event.end, zone)
            if start >= window.end:
                break
            transparent = str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT"
            cancelled = str(event.get("STATUS", "")).upper() == "CANCELLED"
            if end > start and not transparent and not cancelled:
                busy.append(Interval(start, end))
    except CalendarUnavailable:
        raise
    except (ValueError, TypeError, KeyError, AttributeError):
        raise _unreadable() from None
    return clipped(busy, window)


def _zone(calendar: Calendar) -> ZoneInfo:
    name = calendar.get("X-WR-TIMEZONE")
    try:
        return ZoneInfo(str(name)) if name else LONDON
    except (ZoneInfoNotFoundError, ValueError):
        return LONDON


def _instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=zone)
    if value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value
