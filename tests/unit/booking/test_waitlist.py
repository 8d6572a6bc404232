from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from services.booking.domain.availability import Slot
from services.booking.domain.errors import InvalidTransition
from services.booking.domain.model import DateRange, Interval, PriorityFlag, SessionType
from services.booking.domain.waitlist import WaitlistEntry, decline, expire, next_offer
from tests.unit.booking.example_school import SCHOOL_ID, london

pytestmark = pytest.mark.unit

FREED = Slot(
    interval=Interval(london(2025, 3, 5, 10), london(2025, 3, 5, 10, 40)),
    school_id=SCHOOL_ID,
    session_type=SessionType.INTERVIEW,
    adviser_ids=("pa-a",),
    rooms=("Careers room",),
)
NOW = london(2025, 3, 3, 12)
TTL = timedelta(hours=2)


def entry(student_id: str, joined_day: int, **changes: Any) -> WaitlistEntry:
    base = WaitlistEntry(
        student_id=student_id,
        school_id=SCHOOL_ID,
        session_type=SessionType.INTERVIEW,
        joined_at=london(2025, 2, joined_day, 9),
    )
    return replace(base, **changes)


NEET = frozenset({PriorityFlag.NEET_RISK})


def test_priority_students_are_offered_first_then_first_come():
    entries = [entry("early", 1), entry("targeted", 20, priority_flags=NEET), entry("later", 10)]
    offer = next_offer(entries, FREED, NOW, TTL)
    assert offer is not None
    assert offer.student_id == "targeted"
    assert offer.expires_at == NOW + TTL

    without_priority = next_offer(entries[::2], FREED, NOW, TTL)
    assert without_priority is not None and without_priority.student_id == "early"


def test_entries_whose_dates_or_session_type_exclude_the_slot_are_skipped():
    entries = [
        entry("next-week-only", 1, dates=DateRange(date(2025, 3, 10), date(2025, 3, 14))),
        entry("wants-dropin", 2, session_type=SessionType.DROPIN),
        entry("other-school", 3, school_id="another-school"),
        entry("this-week", 4, dates=DateRange(date(2025, 3, 3), date(2025, 3, 7))),
    ]
    offer = next_offer(entries, FREED, NOW, TTL)
    assert offer is not None and offer.student_id == "this-week"


def test_expired_offer_passes_to_the_next_student_and_never_back():
    entries = [entry("first", 1), entry("second", 2)]
    offer = next_offer(entries, FREED, NOW, TTL)
    assert offer is not None

    with pytest.raises(InvalidTransition):
        expire(offer, entries, NOW + TTL - timedelta(minutes=1))
    passed = expire(offer, entries, NOW + TTL)
    assert passed is not None and passed.student_id == "second"
    assert passed.expires_at == NOW + 2 * TTL
    assert expire(passed, entries, NOW + 2 * TTL) is None


def test_declined_offer_passes_on_at_once():
    entries = [entry("first", 1), entry("second", 2), entry("third", 3)]
    offer = next_offer(entries, FREED, NOW, TTL)
    assert offer is not None
    passed = decline(offer, entries, NOW + timedelta(minutes=5))
    assert passed is not None
    assert passed.student_id == "second"
    assert passed.offered_to == frozenset({"first", "second"})


def test_reserved_slot_is_offered_only_to_priority_students_before_release():
    reserved = replace(FREED, priority_reserved=True, release_at=FREED.start - timedelta(hours=48))
    entries = [entry("open", 1), entry("targeted", 9, priority_flags=NEET)]
    before_release = FREED.start - timedelta(hours=72)

    offer = next_offer(entries, reserved, before_release, TTL)
    assert offer is not None and offer.student_id == "targeted"
    assert next_offer(entries[:1], reserved, before_release, TTL) is None
    after_release = next_offer(entries[:1], reserved, FREED.start - timedelta(hours=47), TTL)
    assert after_release is not None and after_release.student_id == "open"


def test_slot_that_has_started_is_not_offered():
    assert next_offer([entry("first", 1)], FREED, FREED.start, TTL) is None
