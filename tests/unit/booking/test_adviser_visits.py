"""When a student's advisers are next in school: the agreement's days read forward from now."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, time

import pytest

from services.booking.application.adviser_visits import AdviserVisit, advisers_in_school
from services.booking.application.schools import SchoolRecord
from services.booking.domain.agreement import AlternateWeeks, ExplicitDates
from services.booking.domain.model import DateRange
from services.booking.domain.visits import NextVisit, next_visit
from shared.http.pages import local_day, local_time
from tests.unit.booking.example_school import (
    SCHOOL_ID,
    agreement,
    attendance,
    london,
    school_calendar,
)
from tests.unit.booking.fakes import FakeUnitOfWork

pytestmark = pytest.mark.unit

TUESDAY = 1
FOUR_WEEKS_ON = date(2025, 3, 31)


def test_after_fridays_hours_the_next_day_is_monday_across_the_weekend() -> None:
    weekly = agreement(attendance("pa-a"))  # Mondays and Fridays, 09:00 to 12:00
    found = next_visit(weekly, "pa-a", school_calendar(), london(2025, 2, 28, 13), FOUR_WEEKS_ON)
    assert found == NextVisit(
        "pa-a", date(2025, 3, 3), london(2025, 3, 3, 9), london(2025, 3, 3, 12)
    )
    assert found is not None and found.starts is not None
    assert local_day(found.day) == "Mon 3 Mar"
    assert local_time(found.starts, "Europe/London", "time") == "09:00"


def test_today_counts_while_the_adviser_is_still_in() -> None:
    weekly = agreement(attendance("pa-a"))
    found = next_visit(weekly, "pa-a", school_calendar(), london(2025, 3, 3, 11), FOUR_WEEKS_ON)
    assert found is not None and found.day == date(2025, 3, 3)


def test_an_adviser_every_other_week_is_next_in_a_fortnight_after_their_week() -> None:
    fortnightly = attendance(
        "pa-b",
        pattern=AlternateWeeks(date(2025, 2, 17), frozenset({TUESDAY})),
        start=None,
        end=None,
    )
    calendar = school_calendar()
    # In on Tuesday 18 February; from the Wednesday, not Tuesday 25th but Tuesday 4 March.
    found = next_visit(
        agreement(fortnightly), "pa-b", calendar, london(2025, 2, 19, 9), FOUR_WEEKS_ON
    )
    assert found == NextVisit("pa-b", date(2025, 3, 4))  # the whole school day: no hours
    assert found is not None and local_day(found.day) == "Tue 4 Mar"


def test_a_holiday_is_not_a_day_in_school() -> None:
    calendar = school_calendar(holidays=(DateRange(date(2025, 3, 3), date(2025, 3, 3)),))
    weekly = agreement(attendance("pa-a"))
    found = next_visit(weekly, "pa-a", calendar, london(2025, 2, 28, 13), FOUR_WEEKS_ON)
    assert found is not None and found.day == date(2025, 3, 7)


def test_no_day_within_the_four_weeks_is_none() -> None:
    later = attendance("pa-c", pattern=ExplicitDates(frozenset({date(2025, 5, 6)})))
    found = next_visit(
        agreement(later), "pa-c", school_calendar(), london(2025, 3, 3, 9), FOUR_WEEKS_ON
    )
    assert found is None


async def test_the_school_advisers_by_name_soonest_first_and_nothing_else_of_them() -> None:
    uow = FakeUnitOfWork()
    uow.reference.schools[SCHOOL_ID] = SchoolRecord(
        SCHOOL_ID, "Example School", school_calendar(), "coordinator-1", "pa-a"
    )
    fortnightly = AlternateWeeks(date(2025, 2, 17), frozenset({TUESDAY}))
    uow.reference.agreements[SCHOOL_ID] = agreement(
        attendance("pa-a"),
        attendance("pa-b", pattern=fortnightly, start=None, end=None),
        attendance("pa-c", pattern=ExplicitDates(frozenset({date(2025, 5, 6)}))),
    )
    for adviser_id, name, kinds in (
        ("pa-a", "Sam Okafor", ["guidance"]),
        ("pa-b", "Ria Patel", ["sen"]),
        ("pa-c", "Jo Hughes", ["intensive_support"]),
    ):
        uow.directory.rows("advisers")[adviser_id] = {
            "id": adviser_id,
            "display_name": name,
            "kinds": kinds,
        }
    found = await advisers_in_school(uow, SCHOOL_ID, london(2025, 2, 28, 13))
    assert [(a.name, a.visit.day if a.visit else None) for a in found] == [
        ("Sam Okafor", date(2025, 3, 3)),
        ("Ria Patel", date(2025, 3, 4)),
        ("Jo Hughes", None),
    ]
    assert {f.name for f in fields(AdviserVisit)} == {"adviser_id", "name", "visit", "zone"}


async def test_a_school_without_a_record_has_no_advisers_to_show() -> None:
    assert await advisers_in_school(FakeUnitOfWork(), SCHOOL_ID, london(2025, 2, 28, 13)) == []


def test_hours_of_a_lunchtime_line_are_given() -> None:
    lunch = attendance("pa-a", start=time(12, 15), end=time(13, 15))
    found = next_visit(
        agreement(lunch), "pa-a", school_calendar(), london(2025, 2, 28, 12, 20), FOUR_WEEKS_ON
    )
    assert found == NextVisit(
        "pa-a", date(2025, 2, 28), london(2025, 2, 28, 12, 15), london(2025, 2, 28, 13, 15)
    )
