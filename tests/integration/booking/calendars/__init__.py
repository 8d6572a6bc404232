"""PAs' own calendars as Outlook and Google publish them, dated from a given Monday.

`{D7}` is that Monday plus 7 days as a DATE; `{D7T0930}` 09:30 London time that day as a
local DATE-TIME; `{D7T0930Z}` the same instant in UTC, as Google writes times.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from services.booking.adapters.uow import BookingUnitOfWork
from services.booking.bootstrap import task_unit_of_work
from shared.db import Database

HERE = Path(__file__).parent
LONDON = ZoneInfo("Europe/London")
_TOKEN = re.compile(r"\{D(\d+)(?:T(\d\d)(\d\d)(Z?))?\}")


def calendar_fixture(name: str, monday: date) -> bytes:
    def dated(match: re.Match[str]) -> str:
        day = monday + timedelta(days=int(match[1]))
        if match[2] is None:
            return day.strftime("%Y%m%d")
        local = datetime.combine(day, time(int(match[2]), int(match[3])), tzinfo=LONDON)
        if match[4]:
            return local.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        return local.strftime("%Y%m%dT%H%M%S")

    return _TOKEN.sub(dated, (HERE / f"{name}.ics").read_text()).encode()


def unit_of_work(db: Database) -> BookingUnitOfWork:
    """Booking's unit of work over `db`, as the composition root builds it for a task."""
    return task_unit_of_work(db)
