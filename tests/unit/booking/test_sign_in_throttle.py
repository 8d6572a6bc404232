"""Wrong passwords cost time: an account or address that keeps failing must wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.booking.domain.sign_in_throttle import SignInThrottle

pytestmark = pytest.mark.unit
T0 = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)


def test_the_fifth_failure_locks_the_account_until_the_window_passes() -> None:
    throttle = SignInThrottle(max_failures=5, window=timedelta(minutes=15))
    keys = ["pupil@school.example", "203.0.113.9"]
    for minute in range(4):
        assert throttle.retry_after(keys, T0 + timedelta(minutes=minute)) is None
        throttle.failed(keys, T0 + timedelta(minutes=minute))
    throttle.failed(keys, T0 + timedelta(minutes=4))
    assert throttle.retry_after(keys, T0 + timedelta(minutes=5)) == timedelta(minutes=10)
    assert throttle.retry_after(keys, T0 + timedelta(minutes=15)) is None


def test_one_address_trying_many_accounts_is_held_back_too() -> None:
    throttle = SignInThrottle(max_failures=3)
    for n in range(3):
        throttle.failed([f"account{n}@school.example", "198.51.100.7"], T0)
    assert throttle.retry_after(["someone@school.example", "198.51.100.7"], T0) is not None
    assert throttle.retry_after(["someone@school.example", "198.51.100.8"], T0) is None


def test_a_successful_sign_in_clears_the_accounts_count() -> None:
    throttle = SignInThrottle(max_failures=2)
    throttle.failed(["pupil@school.example"], T0)
    throttle.succeeded("pupil@school.example")
    throttle.failed(["pupil@school.example"], T0)
    assert throttle.retry_after(["pupil@school.example"], T0) is None
