"""Times on pages read as people in England expect, either side of the clock changes."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.http.pages import local_time


def test_winter_times_are_gmt_and_summer_times_are_bst() -> None:
    assert local_time(datetime(2027, 1, 12, 10, 0, tzinfo=UTC)) == "Tuesday 12 January, 10:00"
    assert local_time(datetime(2027, 6, 15, 9, 0, tzinfo=UTC)) == "Tuesday 15 June, 10:00"


def test_the_last_sunday_of_march_and_october() -> None:
    before = datetime(2027, 3, 28, 0, 30, tzinfo=UTC)
    after = datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert local_time(before, style="time") == "00:30"
    assert local_time(after, style="time") == "02:30"
    assert local_time(datetime(2027, 10, 31, 0, 30, tzinfo=UTC), style="time") == "01:30"
    assert local_time(datetime(2027, 10, 31, 1, 30, tzinfo=UTC), style="time") == "01:30"
    assert local_time(after, style="date") == "Sunday 28 March"
