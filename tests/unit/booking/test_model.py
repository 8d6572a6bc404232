from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.booking.domain.model import DateRange, Interval, SessionTypeConfig, merge
from tests.unit.booking.example_school import london, utc

pytestmark = pytest.mark.unit


def span(start_hour: int, end_hour: int) -> Interval:
    return Interval(utc(2025, 3, 3, start_hour), utc(2025, 3, 3, end_hour))


def test_intervals_refuse_naive_datetimes_and_empty_spans():
    with pytest.raises(ValueError, match="timezone-aware"):
        Interval(datetime(2025, 3, 3, 9), datetime(2025, 3, 3, 10))
    with pytest.raises(ValueError):
        span(10, 10)


def test_intervals_are_held_in_utc_whatever_zone_they_were_given_in():
    paris = timezone(timedelta(hours=1))
    interval = Interval(
        datetime(2025, 3, 3, 10, tzinfo=paris), datetime(2025, 3, 3, 11, tzinfo=paris)
    )
    assert interval.start.tzinfo is UTC
    assert interval == span(9, 10)
    assert london(2025, 7, 1, 9) == utc(2025, 7, 1, 8)


def test_half_open_intervals_touching_do_not_overlap():
    assert not span(9, 10).overlaps(span(10, 11))
    assert span(9, 11).overlaps(span(10, 12))
    assert span(9, 12).contains(span(10, 11))
    assert span(9, 11).intersection(span(10, 12)) == span(10, 11)
    assert span(9, 10).intersection(span(11, 12)) is None


def test_minus_and_merge():
    assert span(8, 16).minus([span(10, 11), span(9, 10), span(15, 17)]) == [
        span(8, 9),
        span(11, 15),
    ]
    assert merge([span(12, 13), span(8, 10), span(9, 11), span(11, 12)]) == [span(8, 13)]


def test_date_range_includes_both_ends():
    half_term = DateRange(datetime(2025, 2, 17).date(), datetime(2025, 2, 21).date())
    assert datetime(2025, 2, 21).date() in half_term
    assert datetime(2025, 2, 22).date() not in half_term
    with pytest.raises(ValueError):
        DateRange(half_term.last, half_term.first)


def test_session_config_rejects_impossible_values():
    assert SessionTypeConfig(60, capacity=20).is_shared
    with pytest.raises(ValueError):
        SessionTypeConfig(0)
