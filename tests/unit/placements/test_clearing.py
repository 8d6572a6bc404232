"""Properties of clearing: any suitable placement for opted-in students left without one."""

from __future__ import annotations

import math
from collections import Counter, defaultdict, deque
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.placements.domain.eligibility import (
    age_on,
    distance_km,
    lottery_priority,
    vetting_valid_for_week,
)
from services.placements.domain.matching import match
from services.placements.domain.model import (
    MatchingProblem,
    MatchResult,
    Placement,
    Student,
)
from services.placements.domain.rematch import clear_after_publication
from tests.unit.placements.test_matching import (
    ROUND_DAY,
    WEEK,
    WEEKS,
    _placement,
    _point,
    _student,
    problems,
)

pytestmark = pytest.mark.unit

CLEARING = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def opted_in(draw: st.DrawFn) -> MatchingProblem:
    """A round where some students ticked "any suitable placement"."""
    problem = draw(problems())
    ticks = [draw(st.sampled_from([True, True, False])) for _ in problem.students]
    students = tuple(
        replace(s, clearing=tick) for s, tick in zip(problem.students, ticks, strict=True)
    )
    return replace(problem, students=students)


def _suitable(student: Student, placement: Placement, week: date) -> bool:
    """Every eligibility rule but the preference."""
    return (
        placement.places_in(week) > 0
        and week in student.school_weeks
        and age_on(student.birth_date, week) >= placement.minimum_age
        and student.access_needs <= placement.access_features
        and distance_km(student.home, placement.location) <= student.travel_limit_km
        and vetting_valid_for_week(placement, week, ROUND_DAY)
    )


def _without_clearing(problem: MatchingProblem) -> MatchingProblem:
    return replace(problem, students=tuple(replace(s, clearing=False) for s in problem.students))


def _free_after(problem: MatchingProblem, result: MatchResult) -> Counter[tuple[str, date]]:
    used = Counter((a.placement_id, a.week) for a in result.assignments)
    return Counter(
        {
            (p.id, w): p.places_in(w) - used[(p.id, w)]
            for p in problem.placements
            for w in WEEKS
            if vetting_valid_for_week(p, w, ROUND_DAY)
        }
    )


@CLEARING
@given(opted_in(), st.integers(0, 2**32))
def test_every_clearing_assignment_is_suitable_and_within_capacity(
    problem: MatchingProblem, seed: int
) -> None:
    result = match(problem, seed)
    students = {s.id: s for s in problem.students}
    placements = {p.id: p for p in problem.placements}
    for a in result.assignments:
        if a.cleared:
            assert _suitable(students[a.student_id], placements[a.placement_id], a.week)
            assert a.rank is None and not a.pinned
    for (placement_id, week), used in Counter(
        (a.placement_id, a.week) for a in result.assignments
    ).items():
        assert used <= placements[placement_id].places_in(week)


@CLEARING
@given(opted_in(), st.integers(0, 2**32))
def test_clearing_moves_nobody_placed_within_preferences(
    problem: MatchingProblem, seed: int
) -> None:
    cleared = match(problem, seed)
    plain = match(_without_clearing(problem), seed)
    assert tuple(a for a in cleared.assignments if not a.cleared) == plain.assignments


@CLEARING
@given(opted_in(), st.integers(0, 2**32))
def test_a_student_who_did_not_opt_in_is_never_cleared(problem: MatchingProblem, seed: int) -> None:
    ticked = {s.id for s in problem.students if s.clearing}
    assert all(a.student_id in ticked for a in match(problem, seed).assignments if a.cleared)


@CLEARING
@given(opted_in(), st.integers(0, 2**32))
def test_clearing_lifts_the_worst_off_school_as_far_as_any_extension_could(
    problem: MatchingProblem, seed: int
) -> None:
    plain = match(_without_clearing(problem), seed)
    result = match(problem, seed)
    sizes = Counter(s.school_id for s in problem.students)
    placed = Counter(
        next(s.school_id for s in problem.students if s.id == a.student_id)
        for a in plain.assignments
    )
    after = Counter(
        next(s.school_id for s in problem.students if s.id == a.student_id)
        for a in result.assignments
    )
    lowest = min(after[school] / size for school, size in sizes.items())
    assert lowest == _best_lowest_extension(problem, plain, sizes, placed)


@CLEARING
@given(opted_in(), st.integers(0, 2**32))
def test_clearing_serves_a_schools_priority_students_first(
    problem: MatchingProblem, seed: int
) -> None:
    result = match(problem, seed)
    priority = lottery_priority(problem.students, seed)
    placed = result.assignments_by_student()
    placements = {p.id: p for p in problem.placements}
    waiting = [s for s in problem.students if s.clearing and s.id not in placed]
    for a in result.assignments:
        if not a.cleared:
            continue
        holder = next(s for s in problem.students if s.id == a.student_id)
        for s in waiting:
            if s.school_id == holder.school_id and priority[s.id] < priority[holder.id]:
                assert not _suitable(s, placements[a.placement_id], a.week)


@CLEARING
@given(opted_in(), st.integers(0, 2**32))
def test_clearing_gives_the_same_places_for_the_same_seed(
    problem: MatchingProblem, seed: int
) -> None:
    assert match(problem, seed) == match(problem, seed)


@CLEARING
@given(opted_in(), st.integers(0, 2**32), st.data())
def test_clearing_after_publication_fills_free_places_and_keeps_every_allocation(
    problem: MatchingProblem, seed: int, data: st.DataObject
) -> None:
    published = match(_without_clearing(problem), seed)
    placed = [a.student_id for a in published.assignments]
    gone = data.draw(st.sets(st.sampled_from(placed))) if placed else set()
    live = replace(
        published, assignments=tuple(a for a in published.assignments if a.student_id not in gone)
    )
    after = clear_after_publication(problem, live, withdrawn_students=gone)
    assert set(live.assignments) <= set(after.assignments)
    students = {s.id: s for s in problem.students}
    placements = {p.id: p for p in problem.placements}
    for a in set(after.assignments) - set(live.assignments):
        assert a.cleared and a.student_id not in gone and students[a.student_id].clearing
        assert _suitable(students[a.student_id], placements[a.placement_id], a.week)
    used = Counter((a.placement_id, a.week) for a in after.assignments)
    assert all(n <= placements[pid].places_in(w) for (pid, w), n in used.items())


def test_an_opted_in_student_whose_choices_are_full_is_cleared_onto_a_free_suitable_place() -> None:
    ticked = _student("A", "k", clearing=True)
    untouched = _student("B", "k")
    wanted = _placement("P-health", 0)
    spare = _placement("P-retail", 3, sector="retail")
    too_far = _placement("P-far", 3, sector="retail", location=_point(60, 0))
    problem = MatchingProblem((ticked, untouched), (wanted, spare, too_far), (), ROUND_DAY)
    result = match(problem, 1)
    (cleared,) = result.assignments
    assert (cleared.student_id, cleared.placement_id, cleared.week) == ("A", "P-retail", WEEK)
    assert cleared.cleared and cleared.rank is None
    assert [u.student_id for u in result.unplaced] == ["B"]
    assert result.school_quotas["k"] == 1


def test_clearing_gives_a_last_free_place_to_the_worst_off_school() -> None:
    big = [_student(f"B{i}", "big", clearing=True) for i in range(4)]
    small = [_student(f"S{i}", "small", clearing=True) for i in range(2)]
    health = _placement("P-health", 2, location=_point(0, 0))
    retail = _placement("P-retail", 1, sector="retail")
    problem = MatchingProblem(tuple(big + small), (health, retail), (), ROUND_DAY)
    result = match(problem, 3)
    cleared = [a for a in result.assignments if a.cleared]
    assert len(cleared) == 1
    school = {s.id: s.school_id for s in problem.students}
    within = Counter(school[a.student_id] for a in result.assignments if not a.cleared)
    assert within == {"big": 1, "small": 1}
    assert school[cleared[0].student_id] == "big"


def _best_lowest_extension(
    problem: MatchingProblem,
    plain: MatchResult,
    sizes: Counter[str],
    placed: Counter[str],
) -> float:
    """Bisection over the rates a school can have: the highest lowest rate reachable by adding
    opted-in unplaced students to the free places they could take, nobody else moving."""
    free = _free_after(problem, plain)
    done = {a.student_id for a in plain.assignments}
    waiting = [s for s in problem.students if s.clearing and s.id not in done]
    placements = {p.id: p for p in problem.placements}
    edges = {
        s.id: [
            seat for seat, n in free.items() if n > 0 and _suitable(s, placements[seat[0]], seat[1])
        ]
        for s in waiting
    }
    rates = sorted({k / size for size in sizes.values() for k in range(size + 1)})

    def reachable(rate: float) -> bool:
        floors = {
            school: max(0, math.ceil(rate * size - 1e-9) - placed[school])
            for school, size in sizes.items()
        }
        return _max_flow(waiting, edges, free, floors) == sum(floors.values())

    low, high = 0, len(rates) - 1  # rates[low] is always reachable (nobody added)
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if reachable(rates[middle]) else (low, middle - 1)
    return rates[low]


def _max_flow(
    waiting: list[Student],
    edges: dict[str, list[tuple[str, date]]],
    free: Counter[tuple[str, date]],
    floors: dict[str, int],
) -> int:
    """Plain augmenting paths: source -> school (its floor) -> student -> seat (free) -> sink."""
    room: defaultdict[tuple[object, object], int] = defaultdict(int)
    for school, need in floors.items():
        room[("source", ("school", school))] = need
    for s in waiting:
        room[(("school", s.school_id), ("student", s.id))] = 1
        for seat in edges[s.id]:
            room[(("student", s.id), ("seat", seat))] = 1
    for seat, n in free.items():
        room[(("seat", seat), "sink")] = max(0, n)
    neighbours: defaultdict[object, set[object]] = defaultdict(set)
    for a, b in list(room):
        neighbours[a].add(b)
        neighbours[b].add(a)
    flow = 0
    while True:
        came_from: dict[object, object] = {"source": "source"}
        queue = deque(["source"])
        while queue and "sink" not in came_from:
            node = queue.popleft()
            for nxt in neighbours[node]:
                if nxt not in came_from and room[(node, nxt)] > 0:
                    came_from[nxt] = node
                    queue.append(nxt)
        if "sink" not in came_from:
            return flow
        node = "sink"
        while node != "source":
            back = came_from[node]
            room[(back, node)] -= 1
            room[(node, back)] += 1
            node = back
        flow += 1
