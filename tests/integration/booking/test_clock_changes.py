"""Slots and bookings either side of the clock changes (last Sundays of March and October)
keep their school wall-clock times: 09:00 is 09:00 in London whatever the UTC offset."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.booking.world import (
    LONDON,
    SCHOOL_A,
    World,
    last_sunday,
    world,
)


def next_change(month: int) -> date:
    """The next last-Sunday-of-`month` far enough ahead to book around."""
    today = date.today()
    for year in (today.year, today.year + 1):
        sunday = last_sunday(year, month)
        if sunday - timedelta(days=2) > today + timedelta(days=1):
            return sunday
    raise AssertionError("unreachable")


async def starts_on(w: World, day: date) -> list[datetime]:
    start = datetime.combine(day, datetime.min.time(), tzinfo=LONDON)
    response = await w.client.get(
        "/api/v1/slots",
        params={
            "school_id": SCHOOL_A,
            "from": start.isoformat(),
            "to": (start + timedelta(days=1)).isoformat(),
        },
        headers=w.coordinator(),
    )
    assert response.status == 200, await response.text()
    return [datetime.fromisoformat(s["starts_at"]) for s in (await response.json())["slots"]]


@pytest.mark.parametrize(("month", "utc_hour_before", "utc_hour_after"), [(3, 9, 8), (10, 8, 9)])
async def test_bookings_either_side_of_a_clock_change_keep_their_local_times(
    database_url: str,
    broker: str,
    tmp_path: Path,
    month: int,
    utc_hour_before: int,
    utc_hour_after: int,
) -> None:
    sunday = next_change(month)
    friday, monday = sunday - timedelta(days=2), sunday + timedelta(days=1)
    async with world(database_url, broker, tmp_path) as w:
        for day, utc_hour in ((friday, utc_hour_before), (monday, utc_hour_after)):
            starts = await starts_on(w, day)
            local = [s.astimezone(LONDON).strftime("%H:%M") for s in starts]
            assert local == ["09:00", "09:40", "10:20", "11:00"]
            assert starts[0].astimezone(UTC).hour == utc_hour

            nine_utc = datetime.combine(day, datetime.min.time(), tzinfo=UTC).replace(hour=utc_hour)
            booked = await w.book(w.student(), nine_utc)
            assert booked.status == 201, await booked.text()
            body = await booked.json()
            assert datetime.fromisoformat(body["starts_at"]).astimezone(LONDON).hour == 9
            assert datetime.fromisoformat(body["ends_at"]) - datetime.fromisoformat(
                body["starts_at"]
            ) == timedelta(minutes=40)

            an_hour_out = await w.book(w.student(1), nine_utc + timedelta(minutes=20))
            assert an_hour_out.status == 409
