"""Wrong passwords cost time per account and origin; made-up emails meet a per-address ceiling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.booking.domain.sign_in_throttle import Backoff, Ceiling, SignInThrottle

pytestmark = pytest.mark.unit
T0 = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
PUPIL = "pupil@school.example"
SCHOOL = "address:203.0.113.9"


def test_past_the_free_failures_each_wait_doubles_up_to_the_cap() -> None:
    backoff = Backoff(
        free_failures=2, first_wait=timedelta(seconds=1), max_wait=timedelta(seconds=5)
    )
    waits = []
    for _ in range(6):
        backoff.failed("key", T0)
        waits.append(backoff.retry_after("key", T0))
    assert waits == [None] + [timedelta(seconds=s) for s in (1, 2, 4, 5, 5)]


def test_failures_leave_the_count_when_the_window_passes() -> None:
    backoff = Backoff(free_failures=1, window=timedelta(minutes=15))
    backoff.failed("key", T0)
    backoff.failed("key", T0)
    assert backoff.retry_after("key", T0) is not None
    assert backoff.retry_after("key", T0 + timedelta(minutes=15)) is None


def test_the_pair_is_counted_apart_from_the_same_account_elsewhere_and_other_accounts() -> None:
    throttle = SignInThrottle()
    for _ in range(10):
        throttle.wrong_password(PUPIL, SCHOOL, T0)
    assert throttle.retry_after(PUPIL, SCHOOL, T0) is not None
    assert throttle.retry_after(PUPIL, "device:abc", T0) is None
    assert throttle.retry_after("friend@school.example", SCHOOL, T0) is None


def test_a_successful_sign_in_clears_the_pairs_count() -> None:
    throttle = SignInThrottle(pairs=Backoff(free_failures=2))
    throttle.wrong_password(PUPIL, SCHOOL, T0)
    throttle.succeeded(PUPIL, SCHOOL)
    throttle.wrong_password(PUPIL, SCHOOL, T0)
    assert throttle.retry_after(PUPIL, SCHOOL, T0) is None


def test_the_ceiling_holds_until_its_oldest_failure_leaves_the_window() -> None:
    ceiling = Ceiling(limit=3, window=timedelta(minutes=15))
    for minute in range(3):
        ceiling.failed("198.51.100.7", T0 + timedelta(minutes=minute))
    assert ceiling.retry_after("198.51.100.7", T0 + timedelta(minutes=5)) == timedelta(minutes=10)
    assert ceiling.retry_after("198.51.100.8", T0) is None
    assert ceiling.retry_after("198.51.100.7", T0 + timedelta(minutes=15)) is None
