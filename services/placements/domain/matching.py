"""Who gets which placement: the allocation round.

The round runs in six steps:

1. **Pins first.** Placements fixed by EBP staff (approved self-found placements, manual
   decisions) take their places before anyone else is considered.
2. **Fair school shares.** A min-cost maximum flow places as many students as any allocation
   could and shares those places between schools max-min fairly (``fairness.fair_allocation``);
   among such allocations it prefers good ranks. Each school's number of places becomes its
   quota for the round, so a large school, or the schools sharing a popular week, cannot absorb
   the places a smaller school depends on.
3. **Priority within each school's share.** Placements rank students the same way --
   disadvantaged and SEN students first, then a lottery number. An unplaced student takes the
   best place held by a lower-priority student from their own school, who steps out; the school's
   count is unchanged. A placed student who prefers a place that is still free moves into it.
   This repeats until nothing moves.
4. **Best places for the students placed.** With the placed students fixed, a second min-cost
   flow gives them the best ranks it can -- counting a disadvantaged or SEN student's rank twice,
   so they are served first to good places -- using only places that keep priority: a student may
   hold a place only if every unplaced schoolmate who would accept it comes after them in
   priority order. Step 3's allocation satisfies that rule, so the flow always places everyone
   it started with, at ranks no worse in total.
5. **Settle again.** Step 3 runs once more, for a place step 4 left free that a student
   prefers; in practice nothing moves.
6. **Clearing.** Students who asked for any suitable placement if none of their choices were
   possible, and are still unplaced, share the places left (``clearing``): the same min-cost flow
   as step 2, starting from each school's count so far, then step 3 within each school. Nobody
   placed before moves.

Why priority decides *who* is placed and ranks decide only *where*. Most counties have more
students wanting placements than places they can reach, so most of the difference between this
allocation's mean rank and the rank-optimal one (which ignores priority) is not where students
go but who goes: the rank-optimal flow places the students whose first choices are easy to meet
and leaves out higher-priority schoolmates who asked for scarce sectors. Doing that would leave
a disadvantaged or SEN student without a place while a schoolmate holds one the student would
have taken -- exactly the blocking pair a school or a family would challenge. So the order of
concerns is: most students placed, fairness between schools, priority within a school, and then
the best ranks those constraints allow (steps 2 and 4, both rank-optimal given what they must
keep).

When the loop in step 3 or 5 ends there is no blocking pair within the quotas (defined in
``fairness.blocking_pairs``): each move either serves a school's higher-priority student or
improves someone's rank, so the loop ends. The number placed within preferences never changes
after step 2, so it is always the maximum possible, and step 4 never changes who is placed or any
school's count. Step 6 only adds students; each school's quota grows by those it adds.

Same problem and seed always give the same result: students and seats are walked in sorted order,
flow networks are built in that order, and the seed only draws lottery numbers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from services.placements.domain.clearing import clearing_round
from services.placements.domain.eligibility import (
    IntArray,
    Market,
    PlacementCatalogue,
    build_market,
    lottery_priority,
    preference_rank,
    vetting_valid_for_week,
)
from services.placements.domain.fairness import OpenRound, fair_allocation, open_round
from services.placements.domain.model import (
    Assignment,
    MatchingProblem,
    MatchResult,
    Pin,
    Student,
    Unplaced,
    UnplacedReason,
)
from services.placements.domain.reasons import ineligibility_reason

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``, called as the round moves through its stages."""

STAGES = (
    "eligibility",
    "school shares",
    "priority and leftover places",
    "best places",
    "clearing",
    "results",
)
PRIORITISED_RANK_WEIGHT = 2


class InvalidPin(ValueError):
    """A pin the round cannot honour; EBP staff must correct it before matching."""


def _no_progress(stage: str, done: int, total: int) -> None:
    del stage, done, total


def match(problem: MatchingProblem, seed: int, progress: Progress | None = None) -> MatchResult:
    """Run an allocation round."""
    report = progress or _no_progress
    total = len(STAGES)
    report(STAGES[0], 0, total)
    market, catalogue = build_market(problem.students, problem.placements, problem.vetting_date)
    pinned = pinned_assignments(problem, catalogue)
    round_ = open_round(problem, market)
    report(STAGES[1], 1, total)
    students = market.students
    fair = fair_allocation(round_)
    report(STAGES[2], 2, total)
    priority = lottery_priority(students, seed)
    position = np.array([priority[s.id] for s in students], dtype=np.int64)
    order = sorted(round_.pool, key=position.__getitem__)
    allocation = Allocation.start(round_, fair.seat_of)
    allocation.settle(round_, order)
    report(STAGES[3], 3, total)
    weight = np.array([_rank_weight(s) for s in students], dtype=np.int64)
    best = best_places(round_, allocation.seat_of, position, weight)
    allocation = Allocation.start(round_, best)
    allocation.settle(round_, order)
    report(STAGES[4], 4, total)
    cleared = clear(round_, catalogue, allocation, order)
    report(STAGES[5], 5, total)
    result = _result(problem, market, catalogue, pinned, allocation, cleared, fair.quotas, seed)
    report(STAGES[5], total, total)
    return result


def clear(
    round_: OpenRound,
    catalogue: PlacementCatalogue,
    placed: Allocation,
    order: Sequence[int],
) -> Allocation:
    """Step 6: places left for opted-in students still unplaced; ``placed`` stays as it is.

    ``order`` is the priority order of the round's students. Returns the clearing allocation,
    whose ``free`` is what is left after it.
    """
    market = round_.market
    waiting = [i for i in order if i not in placed.seat_of and market.students[i].clearing]
    if not waiting:
        return Allocation({}, [set() for _ in placed.free], list(placed.free))
    counts = Counter(round_.already_placed)
    counts.update(market.students[i].school_id for i in placed.seat_of)
    cleared_round = clearing_round(round_, catalogue, sorted(waiting), placed.free, counts)
    cleared = Allocation.start(cleared_round, fair_allocation(cleared_round).seat_of)
    cleared.settle(cleared_round, waiting)
    return cleared


def _rank_weight(student: Student) -> int:
    return PRIORITISED_RANK_WEIGHT if student.prioritised else 1


def best_places(
    round_: OpenRound,
    seat_of: Mapping[int, tuple[int, int]],
    position: IntArray,
    rank_weight: IntArray,
) -> dict[int, tuple[int, int]]:
    """Step 4: the best weighted ranks for the placed students, keeping priority within schools.

    ``position[i]`` is student ``i``'s place in priority order. Student ``t`` may hold seat ``e``
    only if every unplaced, non-pinned schoolmate with ``e`` among their options comes after
    ``t``. Every placed student stays placed: the current seats already obey the rule.
    """
    market = round_.market
    n = len(market.students)
    school_code = {school: k for k, school in enumerate(sorted(round_.school_sizes))}
    school = np.array([school_code[s.school_id] for s in market.students], dtype=np.int64)
    placed = np.zeros(n, dtype=bool)
    placed[np.fromiter(seat_of, dtype=np.int64, count=len(seat_of))] = True
    waiting = np.zeros(n, dtype=bool)
    waiting[np.asarray(round_.pool, dtype=np.int64)] = True
    waiting &= ~placed
    who, seat = market.option_student, market.option_seat
    # Each (school, seat) pair some option has, numbered: not every school against every seat.
    pairs, pair = np.unique(school[who] * len(market.seats) + seat, return_inverse=True)
    first_waiting = np.full(len(pairs), n, dtype=np.int64)
    np.minimum.at(first_waiting, pair[waiting[who]], position[who[waiting[who]]])
    allowed = np.flatnonzero(placed[who] & (position[who] < first_waiting[pair]))
    holders = np.flatnonzero(placed)
    node = np.zeros(n, dtype=np.int64)
    node[holders] = 2 + np.arange(len(holders))
    first_seat = 2 + len(holders)
    seats = np.arange(len(market.seats), dtype=np.int64)
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([np.zeros(len(holders), dtype=np.int64), node[who[allowed]]]),
        np.concatenate([node[holders], first_seat + seat[allowed]]),
        np.ones(len(holders) + len(allowed), dtype=np.int64),
        np.concatenate(
            [
                np.zeros(len(holders), dtype=np.int64),
                market.option_rank[allowed] * rank_weight[who[allowed]],
            ]
        ),
    )
    solver.add_arcs_with_capacity_and_unit_cost(
        first_seat + seats,
        np.ones(len(seats), dtype=np.int64),
        np.maximum(0, np.asarray(round_.capacity, dtype=np.int64)),
        np.zeros(len(seats), dtype=np.int64),
    )
    solver.set_node_supply(0, len(holders))
    solver.set_node_supply(1, -len(holders))
    if solver.solve() != solver.OPTIMAL:
        raise RuntimeError("min-cost flow solver failed to keep every placed student placed")
    chosen = np.flatnonzero(solver.flows(len(holders) + np.arange(len(allowed))))
    picked = allowed[chosen]
    return dict(
        zip(
            who[picked].tolist(),
            zip(market.option_rank[picked].tolist(), seat[picked].tolist(), strict=True),
            strict=True,
        )
    )


@dataclass(slots=True)
class Allocation:
    """Working state of steps 3 and 4: who holds which seat, and places left."""

    seat_of: dict[int, tuple[int, int]]
    holders: list[set[int]]
    free: list[int]

    @classmethod
    def start(cls, round_: OpenRound, seat_of: Mapping[int, tuple[int, int]]) -> Allocation:
        holders: list[set[int]] = [set() for _ in round_.capacity]
        free = list(round_.capacity)
        for i, (_, seat) in seat_of.items():
            holders[seat].add(i)
            free[seat] -= 1
        return cls(dict(seat_of), holders, free)

    def move(self, student: int, rank: int, seat: int) -> None:
        old = self.seat_of.pop(student, None)
        if old is not None:
            self.holders[old[1]].discard(student)
            self.free[old[1]] += 1
        self.seat_of[student] = (rank, seat)
        self.holders[seat].add(student)
        self.free[seat] -= 1

    def step_out(self, student: int) -> None:
        _, seat = self.seat_of.pop(student)
        self.holders[seat].discard(student)
        self.free[seat] += 1

    def settle(self, round_: OpenRound, order: Sequence[int]) -> None:
        """Repeat steps 3 and 4 until neither moves anyone."""
        market = round_.market
        position = [len(order)] * len(market.students)
        for p, i in enumerate(order):
            position[i] = p
        code: dict[str, int] = {}
        school = [code.setdefault(s.school_id, len(code)) for s in market.students]
        while self._serve_by_priority(market, order, position, school) | self._fill_free(
            market, order
        ):
            pass

    def _serve_by_priority(
        self, market: Market, order: Sequence[int], position: list[int], school: list[int]
    ) -> bool:
        """Step 3: unplaced students displace lower-priority schoolmates from better places.

        ``position[i]`` is student ``i``'s place in ``order``; ``school[i]`` numbers their school.
        """
        moved = False
        for i in order:
            if i in self.seat_of:
                continue
            mine, my_school = position[i], school[i]
            for rank, seat in market.ranked_options(i):
                rivals = [
                    t for t in self.holders[seat] if position[t] > mine and school[t] == my_school
                ]
                if rivals:
                    self.step_out(max(rivals, key=position.__getitem__))
                    self.move(i, rank, seat)
                    moved = True
                    break
        return moved

    def _fill_free(self, market: Market, order: Sequence[int]) -> bool:
        """Step 4: placed students move up into places that are still free."""
        moved = False
        for i in order:
            current = self.seat_of.get(i)
            if current is None or current[0] == 1:
                continue
            for rank, seat in market.ranked_options(i):
                if rank >= current[0]:
                    break
                if self.free[seat] > 0:
                    self.move(i, rank, seat)
                    moved = True
                    break
        return moved


def pinned_assignments(problem: MatchingProblem, catalogue: PlacementCatalogue) -> list[Assignment]:
    """Check the pins and turn them into assignments.

    A pin overrides preferences, travel and the school's weeks (staff have agreed it with the
    family) but never capacity or lapsed vetting, which protect the employer and the student.
    """
    students = {s.id: s for s in problem.students}
    used: Counter[tuple[str, object]] = Counter()
    assignments: list[Assignment] = []
    for pin in sorted(problem.pins, key=lambda p: p.student_id):
        student, placement = students.get(pin.student_id), catalogue.by_id.get(pin.placement_id)
        if student is None or placement is None:
            raise InvalidPin(f"pin {pin} names an unknown student or placement")
        _check_pin(pin, used, placement.places_in(pin.week))
        if not vetting_valid_for_week(placement, pin.week, problem.vetting_date):
            raise InvalidPin(f"pin {pin} uses a placement whose vetting has lapsed")
        used[(pin.placement_id, pin.week)] += 1
        rank = preference_rank(student, placement)
        assignments.append(Assignment(pin.student_id, pin.placement_id, pin.week, rank, True))
    return assignments


def _check_pin(pin: Pin, used: Counter[tuple[str, object]], places: int) -> None:
    if used[(pin.placement_id, pin.week)] >= places:
        raise InvalidPin(f"pin {pin} exceeds the placement's places that week")


def _result(
    problem: MatchingProblem,
    market: Market,
    catalogue: PlacementCatalogue,
    pinned: list[Assignment],
    allocation: Allocation,
    cleared: Allocation,
    quotas: Mapping[str, int],
    seed: int,
) -> MatchResult:
    if len({a.student_id for a in pinned}) != len(pinned):
        raise InvalidPin("a student is pinned more than once")
    assignments = list(pinned)
    for i, (rank, seat) in allocation.seat_of.items():
        placement_id, week = market.seats[seat]
        assignments.append(Assignment(market.students[i].id, placement_id, week, rank))
    assignments += cleared_assignments(market, cleared)
    placed = {a.student_id for a in assignments}
    unplaced = [
        Unplaced(s.id, _unplaced_reason(i, market, catalogue, cleared.free))
        for i, s in enumerate(market.students)
        if s.id not in placed
    ]
    grown = Counter(quotas)
    grown.update(market.students[i].school_id for i in cleared.seat_of)
    return MatchResult(
        assignments=tuple(sorted(assignments, key=lambda a: a.student_id)),
        unplaced=tuple(unplaced),
        school_quotas={school: grown[school] for school in quotas},
        seed=seed,
    )


def cleared_assignments(market: Market, cleared: Allocation) -> list[Assignment]:
    found = []
    for i, (_, seat) in sorted(cleared.seat_of.items()):
        placement_id, week = market.seats[seat]
        found.append(Assignment(market.students[i].id, placement_id, week, None, cleared=True))
    return found


def _unplaced_reason(
    index: int, market: Market, catalogue: PlacementCatalogue, free: Sequence[int]
) -> UnplacedReason:
    options = market.options[index]
    if any(free[seat] > 0 for seats in options for seat in seats):
        return UnplacedReason.SCHOOL_QUOTA_REACHED
    if any(options):
        return UnplacedReason.CAPACITY_EXHAUSTED
    return ineligibility_reason(market.students[index], catalogue)
