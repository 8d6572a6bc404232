"""Re-matching after a withdrawal, once allocations have been published.

Students fall ill and employers drop out after schools, families and employers have been told who
goes where. Re-running the whole round would move students who have already arranged travel and
met their employer, so a re-match moves nobody else: every assignment not touched by the
withdrawal stays exactly as published. Only the displaced students (whose placement withdrew)
and the places that have come free are matched again.

Displaced students are served first, in placement priority order, because they had a place and
lost it through no fault of their own. Students still unplaced come next, within their school's
quota; any place still free after that goes to whoever can use it.

``clear_after_publication`` runs the round's clearing stage again over the places free now (freed
by withdrawals, say), for opted-in students still unplaced, again moving nobody.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from services.placements.domain.eligibility import (
    Market,
    PlacementCatalogue,
    build_market,
    lottery_priority,
)
from services.placements.domain.fairness import OpenRound
from services.placements.domain.matching import Allocation, clear, cleared_assignments
from services.placements.domain.model import (
    Assignment,
    MatchingProblem,
    MatchResult,
    Unplaced,
    UnplacedReason,
)
from services.placements.domain.reasons import ineligibility_reason


def rematch_after_withdrawal(
    problem: MatchingProblem,
    previous: MatchResult,
    withdrawn_students: Iterable[str] = (),
    withdrawn_placements: Iterable[str] = (),
    seed: int | None = None,
) -> MatchResult:
    """Re-match displaced students and freed places, leaving every other assignment alone.

    ``seed`` defaults to the previous round's, so students keep their lottery numbers.
    """
    gone_students, gone_placements = set(withdrawn_students), set(withdrawn_placements)
    students = tuple(s for s in problem.students if s.id not in gone_students)
    placements = tuple(p for p in problem.placements if p.id not in gone_placements)
    market, catalogue = build_market(students, placements, problem.vetting_date)
    kept = [
        a
        for a in previous.assignments
        if a.student_id not in gone_students and a.placement_id not in gone_placements
    ]
    displaced = {
        a.student_id
        for a in previous.assignments
        if a.placement_id in gone_placements and a.student_id not in gone_students
    }
    round_seed = previous.seed if seed is None else seed
    lottery = lottery_priority(students, round_seed)
    placed = {a.student_id for a in kept}
    waiting = sorted(
        (i for i, s in enumerate(market.students) if s.id not in placed),
        key=lambda i: (market.students[i].id not in displaced, lottery[market.students[i].id]),
    )
    refill = _Refill(market, kept, previous.school_quotas)
    refill.serve(waiting, displaced, within_quotas=True)
    refill.serve(waiting, displaced, within_quotas=False)
    placed |= {a.student_id for a in refill.new}
    unplaced = [
        Unplaced(s.id, _reason(market, i, refill.free, catalogue))
        for i, s in enumerate(market.students)
        if s.id not in placed
    ]
    quotas = {
        school: max(previous.school_quotas.get(school, 0), count)
        for school, count in refill.by_school.items()
    }
    return MatchResult(
        assignments=tuple(sorted(kept + refill.new, key=lambda a: a.student_id)),
        unplaced=tuple(unplaced),
        school_quotas={**previous.school_quotas, **quotas},
        seed=round_seed,
    )


class _Refill:
    """Freed places being handed out, one student at a time."""

    def __init__(
        self, market: Market, kept: Sequence[Assignment], quotas: Mapping[str, int]
    ) -> None:
        self.market = market
        self.quotas = quotas
        self.free = _free_places(market, kept)
        school_of = {s.id: s.school_id for s in market.students}
        self.by_school = Counter(school_of[a.student_id] for a in kept)
        self.new: list[Assignment] = []
        self._placed: set[int] = set()

    def serve(self, waiting: Sequence[int], displaced: set[str], *, within_quotas: bool) -> None:
        for i in waiting:
            student = self.market.students[i]
            school = student.school_id
            held = within_quotas and self.by_school[school] >= self.quotas.get(school, 0)
            if i in self._placed or (held and student.id not in displaced):
                continue
            choice = _best_free(self.market, i, self.free)
            if choice is not None:
                rank, seat = choice
                self.free[seat] -= 1
                self.by_school[school] += 1
                self._placed.add(i)
                placement_id, week = self.market.seats[seat]
                self.new.append(Assignment(student.id, placement_id, week, rank))


def _free_places(market: Market, kept: Sequence[Assignment]) -> list[int]:
    seat_index = {seat: i for i, seat in enumerate(market.seats)}
    free = list(market.seat_capacity)
    for a in kept:
        seat = seat_index.get((a.placement_id, a.week))
        if seat is not None:
            free[seat] -= 1
    return free


def _best_free(market: Market, student: int, free: Sequence[int]) -> tuple[int, int] | None:
    for rank, seat in market.ranked_options(student):
        if free[seat] > 0:
            return rank, seat
    return None


def _reason(
    market: Market, student: int, free: Sequence[int], catalogue: PlacementCatalogue
) -> UnplacedReason:
    if not any(market.options[student]):
        return ineligibility_reason(market.students[student], catalogue)
    if _best_free(market, student, free) is not None:
        return UnplacedReason.SCHOOL_QUOTA_REACHED
    return UnplacedReason.CAPACITY_EXHAUSTED


def clear_after_publication(
    problem: MatchingProblem,
    previous: MatchResult,
    withdrawn_students: Iterable[str] = (),
    withdrawn_placements: Iterable[str] = (),
) -> MatchResult:
    """Clearing over the places free now; every assignment in ``previous`` stays as it is.

    ``previous`` holds the live allocations; students and placements that withdrew take no part.
    """
    gone_students, gone_placements = set(withdrawn_students), set(withdrawn_placements)
    students = tuple(s for s in problem.students if s.id not in gone_students)
    placements = tuple(p for p in problem.placements if p.id not in gone_placements)
    market, catalogue = build_market(students, placements, problem.vetting_date)
    kept = [a for a in previous.assignments if a.student_id not in gone_students]
    free = _free_places(market, kept)
    placed = {a.student_id for a in kept}
    lottery = lottery_priority(students, previous.seed)
    waiting = sorted(
        (i for i, s in enumerate(market.students) if s.id not in placed),
        key=lambda i: lottery[market.students[i].id],
    )
    school_of = {s.id: s.school_id for s in problem.students}
    round_ = OpenRound(
        market=market,
        capacity=free,
        pool=waiting,
        school_sizes=Counter(s.school_id for s in students),
        already_placed=Counter(school_of[a.student_id] for a in kept),
    )
    nobody = Allocation({}, [set() for _ in free], list(free))
    cleared = clear(round_, catalogue, nobody, waiting)
    new = cleared_assignments(market, cleared)
    now_placed = placed | {a.student_id for a in new}
    grown = Counter(previous.school_quotas)
    grown.update(school_of[a.student_id] for a in new)
    return MatchResult(
        assignments=tuple(sorted(kept + new, key=lambda a: a.student_id)),
        unplaced=tuple(
            Unplaced(s.id, _reason(market, i, cleared.free, catalogue))
            for i, s in enumerate(market.students)
            if s.id not in now_placed
        ),
        school_quotas=dict(grown),
        seed=previous.seed,
    )
