"""Fairness between schools, and the fixed measures every allocation round is judged by.

Schools compete for the same placements, so "how many of my students got a place" is the figure a
head teacher will compare. Two flow networks answer what any allocation *could* reach:

* the most students that can be placed at all (a maximum flow from students through the seats
  they may take), and
* the best lowest school placement rate: the largest ``t`` such that every school can have at
  least ``ceil(t * size)`` students placed at the same time (maximum flow with a floor per school,
  found by bisection).

``fair_allocation`` turns these into the quota each school gets in a round, and
``measures.evaluate`` reports a finished round against them.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import max_flow, min_cost_flow

from services.placements.domain.eligibility import (
    IntArray,
    Market,
    build_market,
    lottery_priority,
)
from services.placements.domain.model import (
    MatchingProblem,
    MatchResult,
    Student,
    Week,
)

_SOURCE, _SINK = 0, 1
_RATE_SCALE = 1_000_000
_BISECTION_STEPS = 16


@dataclass(frozen=True, slots=True)
class OpenRound:
    """A round's market with pins already taken out: who is still to place, and where.

    ``capacity[seat]`` is what is left after pins; ``pool`` holds the indexes of the students still
    to be matched; ``already_placed`` counts pinned students per school.
    """

    market: Market
    capacity: Sequence[int]
    pool: Sequence[int]
    school_sizes: Mapping[str, int]
    already_placed: Mapping[str, int]


class _PlacementNetwork:
    """source -> school -> student -> seat -> sink, with the school arcs left adjustable.

    Built once with array operations: first one arc per student (from their school), then one
    per open option (``option_arcs``, in the market's option order), then one per seat.
    """

    def __init__(self, round_: OpenRound) -> None:
        market = round_.market
        self.schools = sorted(round_.school_sizes)
        code = {school: k for k, school in enumerate(self.schools)}
        school_of = np.array([code[s.school_id] for s in market.students], dtype=np.int64)
        in_pool = np.zeros(len(market.students), dtype=bool)
        in_pool[np.asarray(round_.pool, dtype=np.int64)] = True
        keep = in_pool[market.option_student]
        self.option_student: IntArray = market.option_student[keep]
        self.option_rank: IntArray = market.option_rank[keep]
        self.option_seat: IntArray = market.option_seat[keep]
        has_option = np.zeros(len(market.students), dtype=bool)
        has_option[self.option_student] = True
        students = np.flatnonzero(has_option)
        first_student = 2 + len(self.schools)
        node = np.full(len(market.students), -1, dtype=np.int64)
        node[students] = first_student + np.arange(len(students))
        first_seat = first_student + len(students)
        seats = np.arange(len(market.seats), dtype=np.int64)
        self.tails: IntArray = np.concatenate(
            [2 + school_of[students], node[self.option_student], first_seat + seats]
        )
        self.heads: IntArray = np.concatenate(
            [node[students], first_seat + self.option_seat, np.full(len(seats), _SINK)]
        )
        seat_room = np.maximum(0, np.asarray(round_.capacity, dtype=np.int64))
        self.capacities: IntArray = np.concatenate(
            [np.ones(len(students) + len(self.option_seat), dtype=np.int64), seat_room]
        )
        self.option_arcs: IntArray = len(students) + np.arange(len(self.option_seat))
        self.students = students.tolist()
        counts = np.bincount(school_of[students], minlength=len(self.schools)).tolist()
        self.open_by_school = {
            school: count for school, count in zip(self.schools, counts, strict=True) if count
        }

    def max_flow_with_school_caps(self, caps: Mapping[str, int]) -> int:
        solver = max_flow.SimpleMaxFlow()
        solver.add_arcs_with_capacity(self.tails, self.heads, self.capacities)
        school_nodes = [2 + k for k in range(len(self.schools))]
        solver.add_arcs_with_capacity(
            [_SOURCE] * len(self.schools), school_nodes, [caps.get(s, 0) for s in self.schools]
        )
        if solver.solve(_SOURCE, _SINK) != solver.OPTIMAL:
            raise RuntimeError("maximum flow solver failed")
        return int(solver.optimal_flow())


def max_placeable(round_: OpenRound) -> int:
    """Most students that could be placed by any allocation (pins included)."""
    network = _PlacementNetwork(round_)
    return sum(round_.already_placed.values()) + network.max_flow_with_school_caps(
        network.open_by_school
    )


def best_lowest_rate(round_: OpenRound) -> float:
    """Largest lowest school placement rate any allocation can reach (pins count as placed).

    Bisection on ``t``: a floor of ``ceil(t * size)`` placed students per school is reachable
    exactly when a maximum flow with those caps on the school arcs saturates them all.
    """
    network = _PlacementNetwork(round_)

    def floors(rate: float) -> dict[str, int] | None:
        needs = {}
        for school, size in round_.school_sizes.items():
            need = max(0, math.ceil(rate * size - 1e-9) - round_.already_placed.get(school, 0))
            if need > network.open_by_school.get(school, 0):
                return None
            needs[school] = need
        return needs

    def reachable(rate: float) -> bool:
        needs = floors(rate)
        return needs is not None and network.max_flow_with_school_caps(needs) == sum(needs.values())

    low, high = 0.0, 1.0
    if reachable(high):
        return 1.0
    for _ in range(_BISECTION_STEPS):
        middle = (low + high) / 2
        low, high = (middle, high) if reachable(middle) else (low, middle)
    return _lowest_rate_at(round_, low)


def _lowest_rate_at(round_: OpenRound, rate: float) -> float:
    """The actual lowest rate once every school has its floor for ``rate``."""
    return min(
        max(math.ceil(rate * size - 1e-9), round_.already_placed.get(school, 0)) / size
        for school, size in round_.school_sizes.items()
        if size
    )


@dataclass(frozen=True, slots=True)
class FairAllocation:
    """A maximum allocation that shares places between schools max-min fairly.

    ``quotas`` is each school's share (pins included); ``seat_of`` maps a pooled student's index
    to the (rank, seat) the allocation gives them.
    """

    quotas: Mapping[str, int]
    seat_of: Mapping[int, tuple[int, int]]


def fair_allocation(round_: OpenRound, rank_weight: IntArray | None = None) -> FairAllocation:
    """Place the most students, lifting the worst-off schools first, then preferring good ranks.

    A min-cost maximum flow: a school's next placed student costs more the higher the school's
    placement rate already is, which spreads places water-filling style, so a small school whose
    week clashes with a big school's still gets its share. Much smaller costs then choose among
    the fair allocations: each option costs its rank, times ``rank_weight[student]`` if given.
    """
    network = _PlacementNetwork(round_)
    solver = min_cost_flow.SimpleMinCostFlow()
    costs = np.zeros(len(network.tails), dtype=np.int64)
    option_costs = network.option_rank
    if rank_weight is not None:
        option_costs = option_costs * rank_weight[network.option_student]
    costs[network.option_arcs] = option_costs
    solver.add_arcs_with_capacity_and_unit_cost(
        network.tails, network.heads, network.capacities, costs
    )
    school_arcs, school_of_arc = _add_school_arcs(solver, network, round_)
    solver.set_node_supply(_SOURCE, len(network.students))
    solver.set_node_supply(_SINK, -len(network.students))
    if solver.solve_max_flow_with_min_cost() != solver.OPTIMAL:
        raise RuntimeError("min-cost flow solver failed")
    used = school_of_arc[solver.flows(school_arcs) > 0]
    extra = np.bincount(used, minlength=len(network.schools)).tolist()
    quotas = {
        school: round_.already_placed.get(school, 0) + extra[k]
        for k, school in enumerate(network.schools)
    }
    chosen = np.flatnonzero(solver.flows(network.option_arcs))
    seat_of = dict(
        zip(
            network.option_student[chosen].tolist(),
            zip(
                network.option_rank[chosen].tolist(),
                network.option_seat[chosen].tolist(),
                strict=True,
            ),
            strict=True,
        )
    )
    return FairAllocation({s: quotas.get(s, 0) for s in sorted(round_.school_sizes)}, seat_of)


def _add_school_arcs(
    solver: min_cost_flow.SimpleMinCostFlow, network: _PlacementNetwork, round_: OpenRound
) -> tuple[IntArray, IntArray]:
    """One unit arc per extra student a school could place; returns the arcs and their schools.

    A unit is priced by the school's placement rate *before* it, growing faster than the rate,
    so a place always goes to the school that is worse off when the flow can choose.
    """
    units = np.array([network.open_by_school.get(s, 0) for s in network.schools], dtype=np.int64)
    school_of_arc = np.repeat(np.arange(len(network.schools)), units)
    first_unit = np.repeat(np.cumsum(units) - units, units)
    extra = np.arange(len(school_of_arc)) - first_unit + 1
    size = np.array([round_.school_sizes[s] for s in network.schools], dtype=np.float64)
    placed = np.array([round_.already_placed.get(s, 0) for s in network.schools], np.float64)
    rate_before = (placed[school_of_arc] + extra - 1) / size[school_of_arc]
    costs = np.rint(_RATE_SCALE * rate_before**2).astype(np.int64)
    arcs = solver.add_arcs_with_capacity_and_unit_cost(
        np.full(len(school_of_arc), _SOURCE, dtype=np.int64),
        2 + school_of_arc,
        np.ones(len(school_of_arc), dtype=np.int64),
        costs,
    )
    return np.asarray(arcs, dtype=np.int64), school_of_arc


def open_round(problem: MatchingProblem, market: Market) -> OpenRound:
    """Take pinned students and their places out of the market."""
    seat_index = {seat: i for i, seat in enumerate(market.seats)}
    capacity = list(market.seat_capacity)
    pinned = {pin.student_id for pin in problem.pins}
    for pin in problem.pins:
        seat = seat_index.get((pin.placement_id, pin.week))
        if seat is not None:
            capacity[seat] -= 1
    school_of = {s.id: s.school_id for s in problem.students}
    return OpenRound(
        market=market,
        capacity=capacity,
        pool=[i for i, s in enumerate(market.students) if s.id not in pinned],
        school_sizes=Counter(s.school_id for s in problem.students),
        already_placed=Counter(school_of[pin.student_id] for pin in problem.pins),
    )


def school_rates(problem: MatchingProblem, result: MatchResult) -> dict[str, float]:
    sizes = Counter(s.school_id for s in problem.students)
    school_of = {s.id: s.school_id for s in problem.students}
    placed = Counter(school_of[a.student_id] for a in result.assignments)
    return {school: placed[school] / size for school, size in sorted(sizes.items())}


def rank_distribution(result: MatchResult) -> dict[int, int]:
    ranks = Counter(a.rank for a in result.assignments if a.rank is not None)
    return {rank: ranks[rank] for rank in range(1, 5)}


@dataclass(frozen=True, slots=True)
class BlockingPair:
    """A student and a place in a week that would both rather be matched to each other."""

    student_id: str
    placement_id: str
    week: Week
    displaces: str | None


def blocking_pairs(
    problem: MatchingProblem, result: MatchResult, *, within_quotas: bool = True
) -> list[BlockingPair]:
    """Student-place pairs that a fair, priority-respecting allocation would not leave standing.

    A non-pinned student ``s`` and a seat (placement ``p`` in week ``w``) block when:

    1. the seat is one of ``s``'s open options and ``s`` ranks ``p`` strictly better than what
       ``s`` got (any option beats none);
    2. the seat has a free place, or holds a non-pinned student ``t`` whom placements serve after
       ``s`` (``eligibility.lottery_priority``: disadvantaged and SEN students, then lottery
       order); ``s`` would take the free place or ``t``'s, freeing ``s``'s old place if any; and
    3. ``within_quotas`` only: acting on the pair keeps every school within its quota, the share
       of places the round gave it. A school that gains a student (``s`` had no place) must not
       go above its quota, and a school that loses one (``t``'s) must not go below it. So ``s``
       may displace a schoolmate, or a student of a school holding more than its share, but not
       take another school's fair share away from it.

    With ``within_quotas=False`` the pairs are judged on priority alone, as if schools had no
    shares: the classic notion of stability, which no allocation can satisfy while also placing
    the most students (a high-priority student who has a second choice can take the only option
    of a low-priority one).
    """
    market, _ = build_market(problem.students, problem.placements, problem.vetting_date)
    priority = lottery_priority(market.students, result.seed)
    state = _HeldSeats(problem, market, result)
    found: list[BlockingPair] = []
    for i, student in enumerate(market.students):
        if student.id in state.pinned:
            continue
        current = state.rank_of.get(student.id, len(student.preferences) + 1)
        for rank, seat in market.ranked_options(i):
            if rank >= current:
                break
            pair = _blocking_at(state, student, seat, priority, within_quotas)
            if pair is not None:
                found.append(pair)
    return found


class _HeldSeats:
    """Who holds which seat in a result, and each school's count against its quota."""

    def __init__(self, problem: MatchingProblem, market: Market, result: MatchResult) -> None:
        self.market = market
        self.quotas = result.school_quotas
        seat_index = {seat: i for i, seat in enumerate(market.seats)}
        school_of = {s.id: s.school_id for s in problem.students}
        self.school_of = school_of
        self.holders: defaultdict[int, list[str]] = defaultdict(list)
        self.free = list(market.seat_capacity)
        self.rank_of: dict[str, int] = {}
        self.pinned = {a.student_id for a in result.assignments if a.pinned}
        for a in result.assignments:
            seat = seat_index.get((a.placement_id, a.week))
            if seat is not None:
                self.free[seat] -= 1
                if not a.pinned:
                    self.holders[seat].append(a.student_id)
            self.rank_of[a.student_id] = a.rank if a.rank is not None else 0
        self.placed = Counter(school_of[a.student_id] for a in result.assignments)

    def keeps_quotas(self, student: Student, displaced: str | None) -> bool:
        change: Counter[str] = Counter()
        if student.id not in self.rank_of:
            change[student.school_id] += 1
        if displaced is not None:
            change[self.school_of[displaced]] -= 1
        for school, delta in change.items():
            after, quota = self.placed[school] + delta, self.quotas.get(school, 0)
            if (delta > 0 and after > quota) or (delta < 0 and after < quota):
                return False
        return True


def _blocking_at(
    state: _HeldSeats,
    student: Student,
    seat: int,
    priority: Mapping[str, int],
    within_quotas: bool,
) -> BlockingPair | None:
    placement_id, week = state.market.seats[seat]
    rivals = [t for t in state.holders[seat] if priority[t] > priority[student.id]]
    candidates: list[str | None] = [None] if state.free[seat] > 0 else []
    rivals.sort(key=priority.__getitem__, reverse=True)
    candidates.extend(rivals)
    for displaced in candidates:
        if not within_quotas or state.keeps_quotas(student, displaced):
            return BlockingPair(student.id, placement_id, week, displaced)
    return None
