"""Properties of the placements matching engine on small random allocation rounds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.placements.domain.eligibility import (
    Market,
    build_market,
    is_open,
    lottery_priority,
    preference_rank,
)
from services.placements.domain.fairness import (
    best_lowest_rate,
    blocking_pairs,
    fair_allocation,
    open_round,
    school_rates,
)
from services.placements.domain.matching import Allocation, InvalidPin, best_places, match
from services.placements.domain.measures import evaluate
from services.placements.domain.model import (
    Assignment,
    GeoPoint,
    MatchingProblem,
    MatchResult,
    Pin,
    Placement,
    Preference,
    Student,
    UnplacedReason,
)
from services.placements.domain.rematch import rematch_after_withdrawal
from services.placements.domain.vetting import VettingCheck, vetting_warnings

pytestmark = pytest.mark.unit

ROUND_DAY = date(2026, 5, 1)
WEEKS = [date(2026, 6, 15) + timedelta(weeks=i) for i in range(3)]
SECTORS = ["health", "animals", "retail"]
FEATURES = ["wheelchair", "quiet_room"]
ROUNDS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _point(x_km: float, y_km: float) -> GeoPoint:
    return GeoPoint(51.0 + y_km / 111.2, 0.3 + x_km / 70.0)


@st.composite
def placements(draw: st.DrawFn, index: int) -> Placement:
    expiry_offsets = st.sampled_from([-10, 48, 300])
    return Placement(
        id=f"P{index}",
        employer_id=f"E{index // 2}",
        sector=draw(st.sampled_from(SECTORS)),
        location=_point(draw(st.floats(0, 20)), draw(st.floats(0, 20))),
        capacity={week: draw(st.integers(0, 2)) for week in WEEKS},
        minimum_age=draw(st.sampled_from([14, 14, 15])),
        access_features=frozenset(draw(st.sets(st.sampled_from(FEATURES)))),
        health_and_safety_expiry=ROUND_DAY + timedelta(days=draw(expiry_offsets)),
        insurance_expiry=ROUND_DAY + timedelta(days=draw(expiry_offsets)),
    )


@st.composite
def students(draw: st.DrawFn, index: int, school: int, placement_count: int) -> Student:
    choice = st.one_of(
        st.builds(Preference.for_sector, st.sampled_from(SECTORS)),
        st.builds(
            Preference.for_placement, st.integers(0, placement_count - 1).map(lambda i: f"P{i}")
        ),
    )
    return Student(
        id=f"S{index:02d}",
        school_id=f"K{school}",
        birth_date=date(2010, 9, 1) + timedelta(days=draw(st.integers(0, 364))),
        home=_point(draw(st.floats(0, 20)), draw(st.floats(0, 20))),
        travel_limit_km=draw(st.sampled_from([5.0, 10.0, 30.0])),
        preferences=tuple(draw(st.lists(choice, min_size=1, max_size=4, unique=True))),
        school_weeks=frozenset(draw(st.sets(st.sampled_from(WEEKS), min_size=1, max_size=2))),
        disadvantaged=draw(st.booleans()),
        sen=draw(st.booleans()),
        access_needs=frozenset(draw(st.sets(st.sampled_from(FEATURES), max_size=1))),
    )


@st.composite
def problems(draw: st.DrawFn) -> MatchingProblem:
    placement_count = draw(st.integers(1, 6))
    offered = tuple(draw(placements(i)) for i in range(placement_count))
    school_of = draw(st.lists(st.integers(0, 2), min_size=1, max_size=14))
    pool = tuple(draw(students(i, school, placement_count)) for i, school in enumerate(school_of))
    return MatchingProblem(pool, offered, (), ROUND_DAY)


def _seat_use(result: MatchResult) -> Counter[tuple[str, date]]:
    return Counter((a.placement_id, a.week) for a in result.assignments)


@ROUNDS
@given(problems(), st.integers(0, 2**32))
def test_every_assignment_is_an_open_option_within_capacity(
    problem: MatchingProblem, seed: int
) -> None:
    result = match(problem, seed)
    by_student = {s.id: s for s in problem.students}
    by_placement = {p.id: p for p in problem.placements}
    for a in result.assignments:
        placement = by_placement[a.placement_id]
        assert is_open(by_student[a.student_id], placement, a.week, ROUND_DAY)
        assert a.rank is not None
        assert preference_rank(by_student[a.student_id], placement) == a.rank
    for (placement_id, week), used in _seat_use(result).items():
        assert used <= by_placement[placement_id].places_in(week)
    everyone = [a.student_id for a in result.assignments] + [u.student_id for u in result.unplaced]
    assert sorted(everyone) == sorted(s.id for s in problem.students)


@ROUNDS
@given(problems(), st.integers(0, 2**32))
def test_same_problem_and_seed_give_the_same_allocation(
    problem: MatchingProblem, seed: int
) -> None:
    assert match(problem, seed) == match(problem, seed)


@ROUNDS
@given(problems(), st.integers(0, 2**32))
def test_no_blocking_pair_within_school_quotas(problem: MatchingProblem, seed: int) -> None:
    assert blocking_pairs(problem, match(problem, seed)) == []


@ROUNDS
@given(problems(), st.integers(0, 2**32))
def test_places_as_many_students_as_any_allocation_could(
    problem: MatchingProblem, seed: int
) -> None:
    result = match(problem, seed)
    market, _ = build_market(problem.students, problem.placements, problem.vetting_date)
    assert len(result.assignments) == _largest_allocation(market)


@ROUNDS
@given(problems(), st.integers(0, 2**32))
def test_lowest_school_rate_is_the_best_any_allocation_could_reach(
    problem: MatchingProblem, seed: int
) -> None:
    result = match(problem, seed)
    market, _ = build_market(problem.students, problem.placements, problem.vetting_date)
    lowest = min(school_rates(problem, result).values())
    assert lowest == pytest.approx(best_lowest_rate(open_round(problem, market)), abs=1e-9)


@ROUNDS
@given(problems(), st.integers(0, 2**32), st.data())
def test_pinned_students_keep_their_pinned_placement(
    problem: MatchingProblem, seed: int, data: st.DataObject
) -> None:
    usable = [
        (p.id, week)
        for p in problem.placements
        for week in WEEKS
        if p.places_in(week) > 0 and _vetting_covers_week(p, week)
    ]
    if not usable:
        return
    student = data.draw(st.sampled_from(problem.students))
    placement_id, week = data.draw(st.sampled_from(usable))
    pinned = MatchingProblem(
        problem.students, problem.placements, (Pin(student.id, placement_id, week),), ROUND_DAY
    )
    result = match(pinned, seed)
    got = result.assignments_by_student().get(student.id)
    assert got is not None and got.pinned
    assert (got.placement_id, got.week) == (placement_id, week)
    by_placement = {p.id: p for p in problem.placements}
    for (pid, w), used in _seat_use(result).items():
        assert used <= by_placement[pid].places_in(w)


def _vetting_covers_week(placement: Placement, week: date) -> bool:
    last_day = week + timedelta(days=4)
    return min(placement.health_and_safety_expiry, placement.insurance_expiry) >= last_day


@ROUNDS
@given(problems(), st.integers(0, 2**32), st.data())
def test_withdrawal_rematch_moves_no_other_student(
    problem: MatchingProblem, seed: int, data: st.DataObject
) -> None:
    before = match(problem, seed)
    gone_students = data.draw(st.sets(st.sampled_from([s.id for s in problem.students])))
    gone_placements = data.draw(st.sets(st.sampled_from([p.id for p in problem.placements])))
    after = rematch_after_withdrawal(problem, before, gone_students, gone_placements)
    untouched = {
        a.student_id: a
        for a in before.assignments
        if a.student_id not in gone_students and a.placement_id not in gone_placements
    }
    now = after.assignments_by_student()
    assert all(now[sid] == a for sid, a in untouched.items())
    assert not (set(now) & gone_students)
    assert all(a.placement_id not in gone_placements for a in after.assignments)
    survivors = MatchingProblem(
        tuple(s for s in problem.students if s.id not in gone_students),
        tuple(p for p in problem.placements if p.id not in gone_placements),
        (),
        ROUND_DAY,
    )
    by_student = {s.id: s for s in survivors.students}
    by_placement = {p.id: p for p in survivors.placements}
    for a in after.assignments:
        assert is_open(by_student[a.student_id], by_placement[a.placement_id], a.week, ROUND_DAY)
    for (pid, week), used in _seat_use(after).items():
        assert used <= by_placement[pid].places_in(week)


def _largest_allocation(market: Market) -> int:
    """Size of a maximum matching by plain augmenting paths, independent of the flow solver."""
    copies = [(seat, copy) for seat, cap in enumerate(market.seat_capacity) for copy in range(cap)]
    holder: dict[tuple[int, int], int] = {}

    def options(i: int) -> list[tuple[int, int]]:
        return [c for _, seat in market.ranked_options(i) for c in copies if c[0] == seat]

    def augment(i: int, seen: set[tuple[int, int]]) -> bool:
        for c in options(i):
            if c in seen:
                continue
            seen.add(c)
            if c not in holder or augment(holder[c], seen):
                holder[c] = i
                return True
        return False

    return sum(augment(i, set()) for i in range(len(market.students)))


# Worked examples.

WEEK = WEEKS[0]


def _student(sid: str, school: str, *, limit: float = 30.0, **extra: object) -> Student:
    fields: dict[str, object] = {
        "birth_date": date(2010, 10, 1),
        "home": _point(0, 0),
        "travel_limit_km": limit,
        "preferences": (Preference.for_sector("health"),),
        "school_weeks": frozenset({WEEK}),
    }
    fields.update(extra)
    return Student(sid, school, **fields)  # type: ignore[arg-type]


def _placement(pid: str, places: int, **extra: object) -> Placement:
    fields: dict[str, object] = {
        "employer_id": f"E-{pid}",
        "sector": "health",
        "location": _point(1, 1),
        "capacity": {WEEK: places},
        "minimum_age": 14,
        "access_features": frozenset(),
        "health_and_safety_expiry": date(2027, 1, 1),
        "insurance_expiry": date(2027, 1, 1),
    }
    fields.update(extra)
    return Placement(pid, **fields)  # type: ignore[arg-type]


def test_small_school_sharing_a_week_with_a_big_school_gets_its_fair_share() -> None:
    big = [_student(f"B{i:02d}", "big", disadvantaged=True) for i in range(10)]
    small = [_student(f"S{i}", "small") for i in range(2)]
    problem = MatchingProblem(tuple(big + small), (_placement("P", 4),), (), ROUND_DAY)
    for seed in range(5):
        result = match(problem, seed)
        rates = school_rates(problem, result)
        assert rates["small"] >= 0.3
        assert min(rates.values()) == pytest.approx(0.3)


def test_lapsed_vetting_means_the_placement_is_never_used() -> None:
    lapsed = _placement("P", 5, insurance_expiry=WEEK + timedelta(days=2))
    problem = MatchingProblem((_student("A", "k"),), (lapsed,), (), ROUND_DAY)
    result = match(problem, 1)
    assert result.assignments == ()
    assert result.unplaced[0].reason is UnplacedReason.VETTING_EXPIRED


def test_unplaced_student_is_told_their_options_were_out_of_travel_range() -> None:
    far = _placement("P", 5, location=_point(25, 0))
    problem = MatchingProblem((_student("A", "k", limit=10.0),), (far,), (), ROUND_DAY)
    assert match(problem, 1).unplaced[0].reason is UnplacedReason.OUT_OF_TRAVEL_RANGE


def test_named_placement_ranks_above_its_sector_choice() -> None:
    preferences = (Preference.for_sector("retail"), Preference.for_placement("P"))
    shop = _placement("Q", 1, sector="retail")
    problem = MatchingProblem(
        (_student("A", "k", preferences=preferences),), (_placement("P", 1), shop), (), ROUND_DAY
    )
    assignment = match(problem, 1).assignments[0]
    assert (assignment.placement_id, assignment.rank) == ("Q", 1)


def test_priority_decides_within_a_school() -> None:
    keen = _student("A", "k")
    served_first = _student("B", "k", sen=True)
    problem = MatchingProblem((keen, served_first), (_placement("P", 1),), (), ROUND_DAY)
    for seed in range(5):
        assert [a.student_id for a in match(problem, seed).assignments] == ["B"]


def test_blocking_pair_is_reported_when_a_free_better_place_is_ignored() -> None:
    student = _student(
        "A", "k", preferences=(Preference.for_placement("P"), Preference.for_placement("Q"))
    )
    problem = MatchingProblem((student,), (_placement("P", 1), _placement("Q", 1)), (), ROUND_DAY)
    good = match(problem, 1)
    worse = MatchResult((Assignment("A", "Q", WEEK, 2),), (), good.school_quotas, 1)
    assert [pair.placement_id for pair in blocking_pairs(problem, worse)] == ["P"]
    assert evaluate(problem, good).blocking_pairs == 0


def test_pin_beyond_capacity_is_refused() -> None:
    pins = (Pin("A", "P", WEEK), Pin("B", "P", WEEK))
    problem = MatchingProblem(
        (_student("A", "k"), _student("B", "k")), (_placement("P", 1),), pins, ROUND_DAY
    )
    with pytest.raises(InvalidPin):
        match(problem, 1)


def test_vetting_warnings_list_lapsed_and_soon_lapsing_checks_soonest_first() -> None:
    today = date(2026, 5, 1)
    soon = _placement("P", 1, health_and_safety_expiry=today + timedelta(days=20))
    lapsed = _placement("Q", 1, insurance_expiry=today - timedelta(days=1))
    later = _placement("R", 1, insurance_expiry=today + timedelta(days=45))
    warnings = vetting_warnings([soon, lapsed, later], today, days=30)
    assert [(w.placement_id, w.check, w.expired) for w in warnings] == [
        ("Q", VettingCheck.INSURANCE, True),
        ("P", VettingCheck.HEALTH_AND_SAFETY, False),
    ]


@ROUNDS
@given(problems(), st.integers(0, 2**32))
def test_best_places_keep_who_is_placed_and_never_cost_rank(
    problem: MatchingProblem, seed: int
) -> None:
    market, _ = build_market(problem.students, problem.placements, problem.vetting_date)
    round_ = open_round(problem, market)
    priority = lottery_priority(market.students, seed)
    position = np.array([priority[s.id] for s in market.students], dtype=np.int64)
    weight = np.array([2 if s.prioritised else 1 for s in market.students], dtype=np.int64)
    allocation = Allocation.start(round_, fair_allocation(round_).seat_of)
    allocation.settle(round_, sorted(round_.pool, key=position.__getitem__))
    best = best_places(round_, allocation.seat_of, position, weight)

    def cost(seat_of: Mapping[int, tuple[int, int]]) -> int:
        return sum(rank * int(weight[i]) for i, (rank, _) in seat_of.items())

    assert set(best) == set(allocation.seat_of)
    assert cost(best) <= cost(allocation.seat_of)
    assert all(
        rank == r and seat == s
        for i, (rank, seat) in best.items()
        for r, s in [next((r, s) for r, s in market.ranked_options(i) if s == seat)]
    )


def test_placed_schoolmates_trade_places_when_both_gain() -> None:
    near_p = (Preference.for_placement("P"), Preference.for_placement("Q"))
    near_q = (Preference.for_placement("Q"), Preference.for_placement("P"))
    problem = MatchingProblem(
        (_student("A", "k", preferences=near_p), _student("B", "k", preferences=near_q)),
        (_placement("P", 1), _placement("Q", 1)),
        (),
        ROUND_DAY,
    )
    market, _ = build_market(problem.students, problem.placements, problem.vetting_date)
    round_ = open_round(problem, market)
    p_seat, q_seat = market.seats.index(("P", WEEK)), market.seats.index(("Q", WEEK))
    swapped = {0: (2, q_seat), 1: (2, p_seat)}
    ones = np.ones(2, dtype=np.int64)
    best = best_places(round_, swapped, np.arange(2, dtype=np.int64), ones)
    assert best == {0: (1, p_seat), 1: (1, q_seat)}
    assert [a.rank for a in match(problem, 3).assignments] == [1, 1]


def test_a_place_an_unplaced_higher_priority_schoolmate_wants_is_not_handed_down() -> None:
    p_then_q = (Preference.for_placement("P"), Preference.for_placement("Q"))
    q_then_p = (Preference.for_placement("Q"), Preference.for_placement("P"))
    waiting = _student("A", "k", preferences=(Preference.for_placement("Q"),))
    schoolmate = _student("B", "k", preferences=q_then_p)
    other_school = _student("C", "m", preferences=p_then_q)
    problem = MatchingProblem(
        (waiting, schoolmate, other_school),
        (_placement("P", 1), _placement("Q", 1)),
        (),
        ROUND_DAY,
    )
    market, _ = build_market(problem.students, problem.placements, problem.vetting_date)
    round_ = open_round(problem, market)
    p_seat, q_seat = market.seats.index(("P", WEEK)), market.seats.index(("Q", WEEK))
    # B and C would both gain by trading, but B would then hold Q, which A (served first and
    # unplaced) wants: the trade would create a blocking pair, so it is not made.
    held = {1: (2, p_seat), 2: (2, q_seat)}
    order = np.array([0, 1, 2], dtype=np.int64)
    assert best_places(round_, held, order, np.ones(3, dtype=np.int64)) == held
