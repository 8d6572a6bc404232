"""Who gets which placement: the allocation round.

The round runs in four steps:

1. **Pins first.** Placements fixed by EBP staff (approved self-found placements, manual
   decisions) take their places before anyone else is considered.
2. **Fair school shares.** A min-cost maximum flow places as many students as any allocation
   could, shares those places between schools max-min fairly (``fairness.fair_allocation``) and,
   among such allocations, prefers good ranks -- counting a disadvantaged or SEN student's rank
   twice. Each school's number of places becomes its quota for the round, so a large school, or
   the schools sharing a popular week, cannot absorb the places a smaller school depends on.
3. **Priority within each school's share.** Placements rank students the same way --
   disadvantaged and SEN students first, then a lottery number. An unplaced student takes the
   best place held by a lower-priority student from their own school, who steps out; the school's
   count is unchanged.
4. **Leftover places.** A placed student who prefers a place that is still free moves into it.

Steps 3 and 4 repeat until neither changes anything. Each move either serves a school's
higher-priority student or improves someone's rank, so the loop ends, and when it ends there is no
blocking pair within the quotas (defined in ``fairness.blocking_pairs``). The number placed never
changes after step 2, so it is always the maximum possible.

Same problem and seed always give the same result: students and seats are walked in sorted order
and the seed only draws lottery numbers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from services.placements.domain.eligibility import (
    Market,
    PlacementCatalogue,
    build_market,
    ineligibility_reason,
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

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``, called as the round moves through its stages."""

STAGES = ("eligibility", "school shares", "priority and leftover places", "results")
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
    fair = fair_allocation(round_, lambda i, rank: rank * _rank_weight(students[i]))
    report(STAGES[2], 2, total)
    priority = lottery_priority(students, seed)
    allocation = Allocation.start(round_, fair.seat_of)
    allocation.settle(round_, sorted(round_.pool, key=lambda i: priority[students[i].id]))
    report(STAGES[3], 3, total)
    result = _result(problem, market, catalogue, pinned, allocation, fair.quotas, seed)
    report(STAGES[3], total, total)
    return result


def _rank_weight(student: Student) -> int:
    return PRIORITISED_RANK_WEIGHT if student.prioritised else 1


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
        position = {i: p for p, i in enumerate(order)}
        while self._serve_by_priority(round_.market, order, position) | self._fill_free(
            round_.market, order
        ):
            pass

    def _serve_by_priority(
        self, market: Market, order: Sequence[int], position: Mapping[int, int]
    ) -> bool:
        """Step 3: unplaced students displace lower-priority schoolmates from better places."""
        moved = False
        for i in order:
            if i in self.seat_of:
                continue
            school = market.students[i].school_id
            for rank, seat in market.ranked_options(i):
                rivals = [
                    t
                    for t in self.holders[seat]
                    if position[t] > position[i] and market.students[t].school_id == school
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
            if current is None:
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
    quotas: Mapping[str, int],
    seed: int,
) -> MatchResult:
    if len({a.student_id for a in pinned}) != len(pinned):
        raise InvalidPin("a student is pinned more than once")
    assignments = list(pinned)
    for i, (rank, seat) in allocation.seat_of.items():
        placement_id, week = market.seats[seat]
        assignments.append(Assignment(market.students[i].id, placement_id, week, rank))
    placed = {a.student_id for a in assignments}
    unplaced = [
        Unplaced(s.id, _unplaced_reason(i, market, catalogue, allocation.free))
        for i, s in enumerate(market.students)
        if s.id not in placed
    ]
    return MatchResult(
        assignments=tuple(sorted(assignments, key=lambda a: a.student_id)),
        unplaced=tuple(unplaced),
        school_quotas=quotas,
        seed=seed,
    )


def _unplaced_reason(
    index: int, market: Market, catalogue: PlacementCatalogue, free: Sequence[int]
) -> UnplacedReason:
    options = market.options[index]
    if any(free[seat] > 0 for seats in options for seat in seats):
        return UnplacedReason.SCHOOL_QUOTA_REACHED
    if any(options):
        return UnplacedReason.CAPACITY_EXHAUSTED
    return ineligibility_reason(market.students[index], catalogue)
