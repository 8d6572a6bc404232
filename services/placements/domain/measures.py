"""The fixed measures every allocation round is judged by, against what any allocation could do."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace

from services.placements.domain.clearing import feasible_bound
from services.placements.domain.eligibility import build_market
from services.placements.domain.fairness import (
    best_lowest_rate,
    blocking_pairs,
    max_placeable,
    open_round,
    rank_distribution,
    school_rates,
)
from services.placements.domain.model import MatchingProblem, MatchResult, UnplacedReason


def _unplaced_by_reason(result: MatchResult) -> dict[str, int]:
    reasons = Counter(u.reason for u in result.unplaced)
    return {reason.value: reasons[reason] for reason in UnplacedReason if reasons[reason]}


@dataclass(frozen=True, slots=True)
class SchoolFigures:
    """One school's students, placed within preferences and through clearing, and its bound."""

    students: int
    within_preferences: int
    through_clearing: int
    feasible_bound: int


@dataclass(frozen=True, slots=True)
class RoundReport:
    """The fixed measures of an allocation round.

    ``placed`` counts every placed student. The measures from ``max_placeable`` to
    ``blocking_pairs_ignoring_quotas`` judge the allocation within preferences (clearing aside),
    against what any allocation within preferences could reach; ``feasible_bound`` is the most
    any allocation could place over every suitable placement, preferred or not.
    """

    students: int
    placed: int
    placed_within_preferences: int
    placed_through_clearing: int
    feasible_bound: int
    placed_share_of_feasible_bound: float
    max_placeable: int
    placed_share_of_max: float
    rank_distribution: Mapping[int, int]
    mean_rank: float
    school_rates: Mapping[str, float]
    lowest_school_rate: float
    best_lowest_school_rate: float
    lowest_rate_ratio: float
    blocking_pairs: int
    blocking_pairs_ignoring_quotas: int
    unplaced_by_reason: Mapping[str, int]
    schools: Mapping[str, SchoolFigures]


def evaluate(problem: MatchingProblem, result: MatchResult) -> RoundReport:
    """Judge a finished round against what any allocation of the same round could reach."""
    market, _ = build_market(problem.students, problem.placements, problem.vetting_date)
    round_ = open_round(problem, market)
    bound = max_placeable(round_)
    best_lowest = best_lowest_rate(round_)
    within = replace(result, assignments=tuple(a for a in result.assignments if not a.cleared))
    rates = school_rates(problem, within)
    lowest = min(rates.values(), default=0.0)
    ranks = rank_distribution(result)
    ranked = sum(ranks.values())
    placed = len(within.assignments)
    feasible = feasible_bound(problem)
    everyone = len(result.assignments)
    return RoundReport(
        students=len(problem.students),
        placed=everyone,
        placed_within_preferences=placed,
        placed_through_clearing=everyone - placed,
        feasible_bound=feasible.overall,
        placed_share_of_feasible_bound=everyone / feasible.overall if feasible.overall else 1.0,
        max_placeable=bound,
        placed_share_of_max=placed / bound if bound else 1.0,
        rank_distribution=ranks,
        mean_rank=sum(r * n for r, n in ranks.items()) / ranked if ranked else 0.0,
        school_rates=rates,
        lowest_school_rate=lowest,
        best_lowest_school_rate=best_lowest,
        lowest_rate_ratio=lowest / best_lowest if best_lowest else 1.0,
        blocking_pairs=len(blocking_pairs(problem, result)),
        blocking_pairs_ignoring_quotas=len(blocking_pairs(problem, result, within_quotas=False)),
        unplaced_by_reason=_unplaced_by_reason(result),
        schools=_school_figures(problem, result, feasible.by_school),
    )


def _school_figures(
    problem: MatchingProblem, result: MatchResult, bounds: Mapping[str, int]
) -> dict[str, SchoolFigures]:
    school_of = {s.id: s.school_id for s in problem.students}
    sizes = Counter(school_of.values())
    within = Counter(school_of[a.student_id] for a in result.assignments if not a.cleared)
    cleared = Counter(school_of[a.student_id] for a in result.assignments if a.cleared)
    return {
        school: SchoolFigures(size, within[school], cleared[school], bounds.get(school, 0))
        for school, size in sorted(sizes.items())
    }
