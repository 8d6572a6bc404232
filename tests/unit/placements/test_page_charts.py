"""The run results' charts and the student's option labels, as the pages draw them."""

from __future__ import annotations

from services.placements.entrypoints.pages_charts import LABEL_WIDTH, WIDTH, rank_bars, school_bars
from services.placements.entrypoints.pages_student import _demand


def test_each_school_is_drawn_against_its_best_possible_share() -> None:
    figures = {
        "b": {"students": 4, "within_preferences": 1, "through_clearing": 1, "feasible_bound": 4},
        "a": {"students": 2, "within_preferences": 2, "through_clearing": 0, "feasible_bound": 2},
    }
    bars, height = school_bars(figures, {"a": "Ashcombe", "b": "Brookfield"})
    assert [b.school for b in bars] == ["Ashcombe", "Brookfield"]
    ashcombe, brookfield = bars
    span = WIDTH - LABEL_WIDTH
    assert (ashcombe.rate, ashcombe.best_rate, ashcombe.placed_width) == (100, 100, span)
    assert (brookfield.placed, brookfield.rate, brookfield.best_rate) == (2, 50, 100)
    assert brookfield.placed_width == span / 2 and brookfield.best_width == span
    assert brookfield.y > ashcombe.y and height >= brookfield.y + 22


def test_a_school_never_shows_more_placed_than_its_best() -> None:
    figures = {
        "a": {"students": 3, "within_preferences": 3, "through_clearing": 0, "feasible_bound": 2}
    }
    (bar,), _ = school_bars(figures, {})
    assert bar.school == "A school" and bar.best == 3


def test_choices_got_are_bars_in_rank_order_with_clearing_last() -> None:
    bars = rank_bars({"2": 3, "1": 6, "3": 0, "4": 1}, cleared=2)
    assert [(b.label, b.count) for b in bars] == [
        ("Choice 1", 6),
        ("Choice 2", 3),
        ("Choice 3", 0),
        ("Choice 4", 1),
        ("Clearing", 2),
    ]
    assert bars[0].height == max(b.height for b in bars) and bars[2].height == 0
    assert bars[0].x < bars[1].x < bars[4].x


def test_an_option_in_demand_says_how_many_want_each_place() -> None:
    assert _demand(4, 2.5, scarce=True) == " (in demand: 2.5 students for each place)"
    assert _demand(0, None, scarce=True) == " (in demand: no places left)"
    assert _demand(10, 0.4, scarce=False) == ""
