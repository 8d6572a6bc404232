from __future__ import annotations

from datetime import timedelta

import pytest

from services.booking.domain.dropin_queue import DropInQueue, QueueStatus
from services.booking.domain.errors import AlreadyQueued, InvalidTransition, NotInQueue
from tests.unit.booking.example_school import london

pytestmark = pytest.mark.unit

LUNCH = london(2025, 3, 3, 12, 30)


def queue_of(*students: str, advisers: int = 1) -> DropInQueue:
    queue = DropInQueue("dropin-1", slot_minutes=15, advisers_present=advisers)
    for minute, student in enumerate(students):
        queue.join(student, LUNCH + timedelta(minutes=minute))
    return queue


def test_students_wait_in_joining_order():
    queue = queue_of("amy", "ben", "cal")
    assert [queue.position(s) for s in ("amy", "ben", "cal")] == [1, 2, 3]


def test_a_student_cannot_join_twice():
    queue = queue_of("amy")
    with pytest.raises(AlreadyQueued):
        queue.join("amy", LUNCH)


def test_estimated_wait_shares_the_queue_between_advisers_present():
    one = queue_of("amy", "ben", "cal")
    two = queue_of("amy", "ben", "cal", advisers=2)
    assert one.estimated_wait("cal") == timedelta(minutes=3 * 15)
    assert two.estimated_wait("cal") == timedelta(minutes=3 * 15 / 2)
    assert queue_of("amy", advisers=0).estimated_wait("amy") is None


def test_estimate_follows_how_long_slots_actually_take():
    queue = queue_of("amy", "ben", "cal")
    queue.call_next("pa-a", LUNCH)
    queue.complete("amy", LUNCH + timedelta(minutes=20))
    assert queue.average_slot_minutes() == 20
    assert queue.estimated_wait("cal") == timedelta(minutes=2 * 20)


def test_call_next_gives_the_first_waiting_student_their_turn():
    queue = queue_of("amy", "ben")
    called = queue.call_next("pa-a", LUNCH)
    assert called is not None
    assert (called.student_id, called.status, called.adviser_id) == (
        "amy",
        QueueStatus.CALLED,
        "pa-a",
    )
    assert queue.position("ben") == 1
    with pytest.raises(NotInQueue):
        queue.position("amy")


def test_call_next_on_an_empty_queue_calls_nobody():
    assert DropInQueue("dropin-1").call_next("pa-a", LUNCH) is None


def test_student_who_does_not_come_is_skipped_and_may_rejoin():
    queue = queue_of("amy", "ben")
    queue.call_next("pa-a", LUNCH)
    skipped = queue.skip("amy", LUNCH + timedelta(minutes=3))
    assert skipped.status is QueueStatus.SKIPPED
    assert [e.student_id for e in queue.waiting()] == ["ben"]
    queue.join("amy", LUNCH + timedelta(minutes=10))
    assert queue.position("amy") == 2


def test_only_a_called_student_can_be_completed():
    queue = queue_of("amy")
    with pytest.raises(InvalidTransition):
        queue.complete("amy", LUNCH)
    with pytest.raises(NotInQueue):
        queue.complete("zed", LUNCH)
