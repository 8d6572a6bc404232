from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.booking.domain.allocation import (
    AdviserLoad,
    AllocationReason,
    AllocationRequest,
    Candidate,
    allocate_adviser,
)
from services.booking.domain.appointments import Appointment
from services.booking.domain.errors import NoAdviserAvailable
from services.booking.domain.model import (
    AdviserKind,
    AppointmentStatus,
    Interval,
    Role,
    SessionType,
)
from tests.unit.booking.example_school import SCHOOL_ID, london

pytestmark = pytest.mark.unit

STUDENT = "student-1"
DAY = Interval(london(2025, 3, 3, 8, 30), london(2025, 3, 3, 15, 30))
WANTED = Interval(london(2025, 3, 3, 10), london(2025, 3, 3, 10, 40))


def candidate(
    adviser_id: str, kind: AdviserKind = AdviserKind.GUIDANCE, **changes: Any
) -> Candidate:
    """A guidance adviser at the school all day with nothing else on, unless told otherwise."""
    base = Candidate(adviser_id=adviser_id, kind=kind, school_id=SCHOOL_ID, windows=(DAY,))
    return replace(base, **changes)


def request(**changes: Any) -> AllocationRequest:
    return AllocationRequest(school_id=SCHOOL_ID, student_id=STUDENT, interval=WANTED, **changes)


def seen(adviser_id: str, day: int, status: AppointmentStatus = AppointmentStatus.ATTENDED):
    return Appointment(
        id=f"past-{adviser_id}-{day}",
        school_id=SCHOOL_ID,
        student_id=STUDENT,
        adviser_id=adviser_id,
        session_type=SessionType.INTERVIEW,
        interval=Interval(london(2025, 1, day, 10), london(2025, 1, day, 10, 40)),
        room="Room 1",
        booked_by=Role.STUDENT,
        status=status,
    )


EVEN = {"pa-a": AdviserLoad(60, 600), "pa-b": AdviserLoad(60, 600), "pa-c": AdviserLoad(60, 600)}


def test_least_loaded_adviser_is_chosen_by_share_of_agreed_time():
    loads = {
        "pa-a": AdviserLoad(300, 600),
        "pa-b": AdviserLoad(200, 200),
        "pa-c": AdviserLoad(100, 400),
    }
    decision = allocate_adviser(request(), [candidate(a) for a in loads], [], loads)
    assert decision.adviser_id == "pa-c"
    assert decision.reason is AllocationReason.LEAST_LOADED


def test_equal_loads_are_broken_the_same_way_whatever_the_input_order():
    candidates = [candidate("pa-c"), candidate("pa-a"), candidate("pa-b")]
    choices = set()
    for seed in range(5):
        random.Random(seed).shuffle(candidates)
        choices.add(allocate_adviser(request(), candidates, [], EVEN).adviser_id)
    assert len(choices) == 1


def test_students_booking_the_same_time_are_spread_over_equally_loaded_advisers():
    candidates = [candidate("pa-a"), candidate("pa-b"), candidate("pa-c")]
    chosen = {
        allocate_adviser(replace(request(), student_id=f"s{n}"), candidates, [], EVEN).adviser_id
        for n in range(30)
    }
    assert chosen == {"pa-a", "pa-b", "pa-c"}


def test_loads_within_one_appointment_of_the_lightest_count_as_level():
    # The 40-minute request would take pa-a to 100 of 600 minutes; pa-b (90) and pa-c (99)
    # are below that, so all three are level; pa-d (100) is a whole appointment ahead.
    loads = {
        "pa-a": AdviserLoad(60, 600),
        "pa-b": AdviserLoad(90, 600),
        "pa-c": AdviserLoad(99, 600),
        "pa-d": AdviserLoad(100, 600),
    }
    candidates = [candidate(a) for a in loads]
    chosen = {
        allocate_adviser(replace(request(), student_id=f"s{n}"), candidates, [], loads).adviser_id
        for n in range(60)
    }
    assert chosen == {"pa-a", "pa-b", "pa-c"}


@given(
    st.dictionaries(
        st.sampled_from(["pa-a", "pa-b", "pa-c", "pa-d", "pa-e"]),
        st.tuples(st.integers(0, 900), st.integers(0, 900)),
        min_size=1,
    ),
    st.text(min_size=1, max_size=8),
)
def test_the_chosen_adviser_is_never_a_whole_appointment_ahead_of_the_lightest(
    raw: dict[str, tuple[int, int]], student_id: str
):
    loads = {a: AdviserLoad(booked, agreed) for a, (booked, agreed) in raw.items()}
    candidates = [candidate(a) for a in loads]
    chosen = allocate_adviser(
        replace(request(), student_id=student_id), candidates, [], loads
    ).adviser_id
    minutes = WANTED.minutes
    lightest_after = min(
        AdviserLoad(load.booked_minutes + minutes, load.agreed_minutes).ratio
        for load in loads.values()
    )
    ratio = loads[chosen].ratio
    assert ratio < lightest_after or ratio == min(load.ratio for load in loads.values())


def test_adviser_with_no_agreed_time_is_chosen_last():
    loads = {"pa-a": AdviserLoad(0, 0), "pa-b": AdviserLoad(500, 600)}
    decision = allocate_adviser(request(), [candidate("pa-a"), candidate("pa-b")], [], loads)
    assert decision.adviser_id == "pa-b"


def test_only_advisers_present_at_this_school_for_the_whole_appointment_are_considered():
    morning = Interval(london(2025, 3, 3, 8, 30), london(2025, 3, 3, 10, 20))
    candidates = [
        candidate("pa-a", windows=(morning,)),
        candidate("pa-b", school_id="another-school"),
        candidate("pa-c"),
    ]
    loads = {
        "pa-a": AdviserLoad(0, 600),
        "pa-b": AdviserLoad(0, 600),
        "pa-c": AdviserLoad(500, 600),
    }
    assert allocate_adviser(request(), candidates, [], loads).adviser_id == "pa-c"


def test_nobody_present_is_refused_with_the_reason():
    with pytest.raises(NoAdviserAvailable, match="at the school"):
        allocate_adviser(request(), [candidate("pa-a", windows=())], [], EVEN)


def test_busy_adviser_is_passed_over():
    busy = (Interval(london(2025, 3, 3, 10, 30), london(2025, 3, 3, 11)),)
    candidates = [candidate("pa-a", busy=busy), candidate("pa-b")]
    assert allocate_adviser(request(), candidates, [], EVEN).adviser_id == "pa-b"
    with pytest.raises(NoAdviserAvailable, match="busy"):
        allocate_adviser(request(), candidates[:1], [], EVEN)


def test_referral_calling_for_a_kind_gets_that_kind_only():
    candidates = [candidate("pa-a"), candidate("pa-z", AdviserKind.SEN)]
    loads = {"pa-a": AdviserLoad(0, 600), "pa-z": AdviserLoad(590, 600)}

    decision = allocate_adviser(request(required_kind=AdviserKind.SEN), candidates, [], loads)
    assert decision.adviser_id == "pa-z"
    with pytest.raises(NoAdviserAvailable, match="kind"):
        allocate_adviser(
            request(required_kind=AdviserKind.LOOKED_AFTER_CHILDREN), candidates, [], loads
        )


def test_guidance_is_the_default_kind():
    candidates = [candidate("pa-a", AdviserKind.INTENSIVE_SUPPORT), candidate("pa-b")]
    assert allocate_adviser(request(), candidates, [], EVEN).adviser_id == "pa-b"


def test_targeted_student_keeps_the_adviser_they_saw_most_recently():
    history = [seen("pa-b", 6), seen("pa-c", 20), seen("pa-a", 27, AppointmentStatus.NO_SHOW)]
    candidates = [candidate(a) for a in EVEN]
    decision = allocate_adviser(request(priority_student=True), candidates, history, EVEN)
    assert decision.adviser_id == "pa-c"
    assert decision.reason is AllocationReason.CONTINUITY


def test_continuity_falls_back_to_an_earlier_adviser_when_the_last_one_is_away():
    history = [seen("pa-b", 6), seen("pa-c", 20)]
    candidates = [candidate("pa-a"), candidate("pa-b"), candidate("pa-c", windows=())]
    decision = allocate_adviser(request(priority_student=True), candidates, history, EVEN)
    assert (decision.adviser_id, decision.reason) == ("pa-b", AllocationReason.CONTINUITY)


def test_continuity_is_not_applied_to_students_who_are_not_targeted():
    history = [seen("pa-c", 20)]
    candidates = [candidate(a) for a in EVEN]
    decision = allocate_adviser(request(), candidates, history, EVEN)
    assert decision == allocate_adviser(request(), candidates, [], EVEN)
    assert decision.reason is AllocationReason.LEAST_LOADED


def test_requested_adviser_is_honoured_when_allowed_and_available():
    candidates = [candidate(a) for a in EVEN]
    decision = allocate_adviser(request(requested_adviser_id="pa-b"), candidates, [], EVEN)
    assert (decision.adviser_id, decision.reason) == ("pa-b", AllocationReason.REQUESTED)


def test_request_is_ignored_when_the_agreement_forbids_it_or_the_adviser_is_unavailable():
    candidates = [candidate("pa-a"), candidate("pa-b"), candidate("pa-c", windows=())]
    forbidden = request(requested_adviser_id="pa-b", requests_allowed=False)
    absent = request(requested_adviser_id="pa-c")

    assert allocate_adviser(forbidden, candidates, [], EVEN).reason is AllocationReason.LEAST_LOADED
    fallback = allocate_adviser(absent, candidates, [], EVEN)
    assert fallback.adviser_id != "pa-c"
    assert fallback.reason is AllocationReason.LEAST_LOADED
