from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from services.booking.domain.agreement import AlternateWeeks, ExplicitDates, PartnershipAgreement
from services.booking.domain.availability import (
    Slot,
    bookable_slots,
    check_booking_window,
    day_grid,
    nearest_alternatives,
    slots_at,
    visible_slots,
)
from services.booking.domain.calendar import LocalPeriod, SchoolCalendar, local_instant
from services.booking.domain.errors import OutsideBookingWindow
from services.booking.domain.model import (
    LONDON,
    DateRange,
    Interval,
    SessionType,
    SessionTypeConfig,
)
from tests.unit.booking.example_school import (
    CONFIDENTIAL_ROOM,
    agreement,
    attendance,
    london,
    school_calendar,
    utc,
    wall_clock,
)

pytestmark = pytest.mark.unit

PA = "pa-1"
WEEK_BEFORE = london(2025, 2, 24, 12)  # a week before the Monday most tests use


def interview_slots(
    rules: PartnershipAgreement,
    calendar: SchoolCalendar,
    first: date,
    last: date,
    now: datetime | None = None,
    busy: Mapping[str, Sequence[Interval]] | None = None,
    **kwargs: Any,
) -> list[Slot]:
    """Interview slots on local days `first`..`last`, asked for a week ahead unless told."""
    return bookable_slots(
        rules,
        calendar,
        SessionType.INTERVIEW,
        london(first.year, first.month, first.day),
        london(last.year, last.month, last.day) + timedelta(days=1),
        now if now is not None else london(first.year, first.month, first.day) - timedelta(days=7),
        busy or {},
        **kwargs,
    )


def starts_on(slots: Sequence[Slot], day: date) -> list[time]:
    return [wall_clock(s.start)[1] for s in slots if wall_clock(s.start)[0] == day]


NINE_TO_NOON = [time(9), time(9, 40), time(10, 20), time(11)]


@pytest.mark.parametrize(
    ("friday", "monday", "friday_first_utc", "monday_first_utc"),
    [
        # last Sunday of March 2025 is the 30th: GMT before, BST after
        (date(2025, 3, 28), date(2025, 3, 31), utc(2025, 3, 28, 9), utc(2025, 3, 31, 8)),
        # last Sunday of October 2025 is the 26th: BST before, GMT after
        (date(2025, 10, 24), date(2025, 10, 27), utc(2025, 10, 24, 8), utc(2025, 10, 27, 9)),
        (date(2026, 3, 27), date(2026, 3, 30), utc(2026, 3, 27, 9), utc(2026, 3, 30, 8)),
        (date(2026, 10, 23), date(2026, 10, 26), utc(2026, 10, 23, 8), utc(2026, 10, 26, 9)),
    ],
)
def test_slots_keep_their_wall_clock_times_across_a_clock_change(
    friday: date, monday: date, friday_first_utc: datetime, monday_first_utc: datetime
) -> None:
    slots = interview_slots(agreement(attendance(PA)), school_calendar(), friday, monday)

    assert starts_on(slots, friday) == NINE_TO_NOON
    assert starts_on(slots, monday) == NINE_TO_NOON
    assert slots[0].start == friday_first_utc
    assert next(s.start for s in slots if wall_clock(s.start)[0] == monday) == monday_first_utc
    assert all(s.end - s.start == timedelta(minutes=40) for s in slots)


def test_local_nine_oclock_either_side_of_the_march_2025_change():
    assert local_instant(date(2025, 3, 28), time(9), LONDON) == utc(2025, 3, 28, 9)
    assert local_instant(date(2025, 3, 30), time(9), LONDON) == utc(2025, 3, 30, 8)


def test_weekend_of_the_clock_change_offers_nothing():
    slots = interview_slots(
        agreement(attendance(PA, weekdays=frozenset(range(7)))),
        school_calendar(),
        date(2025, 10, 25),
        date(2025, 10, 26),
    )
    assert slots == []


def test_blocked_local_period_spanning_the_october_change_is_removed_on_both_sides():
    """What is left of Monday's window starts at 10:00 local, and its grid starts there too."""
    calendar = school_calendar(
        blocked_periods=(LocalPeriod(datetime(2025, 10, 24, 10), datetime(2025, 10, 27, 10)),)
    )
    slots = interview_slots(
        agreement(attendance(PA)), calendar, date(2025, 10, 24), date(2025, 10, 27)
    )

    assert starts_on(slots, date(2025, 10, 24)) == [time(9)]
    assert starts_on(slots, date(2025, 10, 27)) == [time(10), time(10, 40), time(11, 20)]


def test_busy_time_given_in_utc_after_the_march_change_blocks_the_right_local_slot():
    busy = {PA: [Interval(utc(2025, 3, 31, 8), utc(2025, 3, 31, 8, 40))]}
    slots = interview_slots(
        agreement(attendance(PA)),
        school_calendar(),
        date(2025, 3, 31),
        date(2025, 3, 31),
        busy=busy,
    )
    assert starts_on(slots, date(2025, 3, 31)) == NINE_TO_NOON[1:]


def test_holidays_and_exam_periods_offer_no_slots():
    calendar = school_calendar(
        holidays=(DateRange(date(2025, 2, 17), date(2025, 2, 21)),),
        blocked_days=(DateRange(date(2025, 2, 24), date(2025, 2, 24)),),
    )
    slots = interview_slots(
        agreement(attendance(PA)), calendar, date(2025, 2, 14), date(2025, 2, 28)
    )

    days = sorted({wall_clock(s.start)[0] for s in slots})
    assert days == [date(2025, 2, 14), date(2025, 2, 28)]
    assert calendar.is_school_day(date(2025, 2, 24))
    assert not calendar.is_school_day(date(2025, 2, 17))


def test_days_outside_term_offer_no_slots():
    calendar = school_calendar(terms=(DateRange(date(2025, 1, 6), date(2025, 1, 10)),))
    slots = interview_slots(
        agreement(attendance(PA)), calendar, date(2025, 1, 6), date(2025, 1, 17)
    )
    assert sorted({wall_clock(s.start)[0] for s in slots}) == [date(2025, 1, 6), date(2025, 1, 10)]


def test_busy_time_removes_only_the_slots_it_touches():
    day = date(2025, 3, 3)
    busy = {PA: [Interval(london(2025, 3, 3, 10), london(2025, 3, 3, 10, 30))]}
    slots = interview_slots(agreement(attendance(PA)), school_calendar(), day, day, busy=busy)
    assert starts_on(slots, day) == [time(9), time(11)]


def test_buffer_keeps_a_gap_between_a_slot_and_busy_time():
    day = date(2025, 3, 3)
    busy = {
        PA: [
            Interval(london(2025, 3, 3, 8, 50), london(2025, 3, 3, 9)),
            Interval(london(2025, 3, 3, 11, 45), london(2025, 3, 3, 12)),
        ]
    }
    without = interview_slots(agreement(attendance(PA)), school_calendar(), day, day, busy=busy)
    with_buffer = interview_slots(
        agreement(attendance(PA)),
        school_calendar(),
        day,
        day,
        busy=busy,
        buffer=timedelta(minutes=10),
    )

    assert starts_on(without, day) == NINE_TO_NOON
    assert starts_on(with_buffer, day) == [time(9, 40), time(10, 20)]


def test_configured_buffer_spaces_the_grid():
    day = date(2025, 3, 3)
    configs = {SessionType.INTERVIEW: SessionTypeConfig(length_minutes=40, buffer_minutes=5)}
    slots = interview_slots(
        agreement(attendance(PA), session_types=configs), school_calendar(), day, day
    )
    assert starts_on(slots, day) == [time(9), time(9, 45), time(10, 30), time(11, 15)]


def test_grid_is_aligned_to_the_start_of_a_part_day_window():
    day = date(2025, 3, 3)
    slots = interview_slots(
        agreement(attendance(PA, start=time(10, 5), end=time(11, 30))),
        school_calendar(),
        day,
        day,
    )
    assert starts_on(slots, day) == [time(10, 5), time(10, 45)]


def test_minimum_notice_hides_slots_starting_too_soon():
    now = london(2025, 3, 2, 10)  # Sunday 10:00; Monday 09:40 is under 24 hours away
    slots = interview_slots(
        agreement(attendance(PA)), school_calendar(), date(2025, 3, 3), date(2025, 3, 3), now=now
    )
    assert starts_on(slots, date(2025, 3, 3)) == [time(10, 20), time(11)]
    assert all(s.start - now >= timedelta(hours=24) for s in slots)


def test_booking_horizon_hides_slots_too_far_ahead():
    now = london(2025, 3, 3, 12)
    slots = interview_slots(
        agreement(attendance(PA), horizon=timedelta(days=7)),
        school_calendar(),
        date(2025, 3, 3),
        date(2025, 3, 31),
        now=now,
    )
    days = sorted({wall_clock(s.start)[0] for s in slots})
    assert days == [date(2025, 3, 7), date(2025, 3, 10)]
    assert max(s.start for s in slots) <= now + timedelta(days=7)


def test_check_booking_window_refuses_short_notice_and_far_future():
    rules = agreement(attendance(PA))
    now = london(2025, 3, 3, 9)

    check_booking_window(rules, now + timedelta(days=2), now)
    with pytest.raises(OutsideBookingWindow, match="too soon"):
        check_booking_window(rules, now + timedelta(hours=2), now)
    with pytest.raises(OutsideBookingWindow, match="too far ahead"):
        check_booking_window(rules, now + timedelta(days=29), now)


def test_advisers_free_at_the_same_time_share_one_slot_with_their_rooms():
    day = date(2025, 3, 3)
    rules = agreement(attendance("pa-b", room="Library office"), attendance("pa-a"))
    slots = interview_slots(rules, school_calendar(), day, day)

    assert len(slots) == len(NINE_TO_NOON)
    assert all(s.adviser_ids == ("pa-a", "pa-b") for s in slots)
    assert slots[0].room_for("pa-a") == CONFIDENTIAL_ROOM
    assert slots[0].room_for("pa-b") == "Library office"
    assert all(s.school_id == rules.school_id for s in slots)


def test_drop_in_session_inside_an_interview_day_splits_the_interview_grid():
    day = date(2025, 3, 3)
    rules = agreement(
        attendance(PA, start=None, end=None),
        attendance(
            PA,
            start=time(12, 30),
            end=time(13, 15),
            session_types=frozenset({SessionType.DROPIN}),
        ),
    )
    interviews = interview_slots(rules, school_calendar(), day, day)
    dropins = bookable_slots(
        rules,
        school_calendar(),
        SessionType.DROPIN,
        london(2025, 3, 3),
        london(2025, 3, 4),
        WEEK_BEFORE,
        {},
    )

    lunch = Interval(london(2025, 3, 3, 12, 30), london(2025, 3, 3, 13, 15))
    assert not any(s.interval.overlaps(lunch) for s in interviews)
    assert starts_on(interviews, day)[-3:] == [time(13, 15), time(13, 55), time(14, 35)]
    assert starts_on(dropins, day) == [time(12, 30), time(12, 45), time(13)]


def test_attendance_is_clipped_to_the_school_day_except_after_hours_sessions():
    day = date(2025, 3, 3)
    calendar = school_calendar()
    rules = agreement(
        attendance(PA, start=time(7), end=time(17)),
        attendance(
            PA,
            weekdays=frozenset({0}),
            start=time(18),
            end=time(20),
            after_hours=True,
            session_types=frozenset({SessionType.OPTIONS_EVENING}),
        ),
    )
    windows = rules.attendance_windows(PA, day, day, calendar)

    assert windows == [
        Interval(london(2025, 3, 3, 8, 30), london(2025, 3, 3, 15, 30)),
        Interval(london(2025, 3, 3, 18), london(2025, 3, 3, 20)),
    ]


def test_group_session_stays_offered_until_full():
    rules = agreement(
        attendance(PA, start=time(10), end=time(11), session_types=frozenset({SessionType.GROUP})),
        session_types={SessionType.GROUP: SessionTypeConfig(length_minutes=60, capacity=3)},
    )
    session = Interval(london(2025, 3, 3, 10), london(2025, 3, 3, 11))

    def offered(taken: int) -> list[Slot]:
        return bookable_slots(
            rules,
            school_calendar(),
            SessionType.GROUP,
            london(2025, 3, 3),
            london(2025, 3, 4),
            WEEK_BEFORE,
            {PA: [session]},
            seats_taken={(PA, session): taken},
        )

    assert [s.capacity_remaining for s in offered(1)] == [2]
    assert [s.capacity_remaining for s in offered(2)] == [1]
    assert offered(3) == []


def test_priority_share_reserves_an_even_deterministic_subset_each_day():
    day = date(2025, 3, 3)
    rules = agreement(attendance(PA, start=None, end=None), priority_share=0.3)
    slots = interview_slots(rules, school_calendar(), day, day)
    reserved = [s for s in slots if s.priority_reserved]

    assert len(slots) == 10
    assert len(reserved) == int(len(slots) * 0.3)
    assert [slots.index(s) for s in reserved] == [3, 6, 9]

    booked_first = {PA: [slots[0].interval]}
    again = interview_slots(rules, school_calendar(), day, day, busy=booked_first)
    assert [s.start for s in again if s.priority_reserved] == [s.start for s in reserved]


def test_reserved_slots_are_hidden_from_other_students_until_release():
    day = date(2025, 3, 3)
    rules = agreement(attendance(PA, start=None, end=None), priority_share=0.3)
    slots = interview_slots(rules, school_calendar(), day, day)
    reserved = next(s for s in slots if s.priority_reserved)
    before_release = reserved.start - timedelta(hours=49)
    after_release = reserved.start - timedelta(hours=47)

    assert reserved.release_at == reserved.start - rules.priority_release
    assert reserved not in visible_slots(slots, priority_student=False, now=before_release)
    assert reserved in visible_slots(slots, priority_student=True, now=before_release)
    assert reserved in visible_slots(slots, priority_student=False, now=after_release)


def test_alternate_weeks_follow_the_anchor_week():
    rules = agreement(
        attendance(PA, pattern=AlternateWeeks(date(2025, 1, 9), frozenset({3}))),
        horizon=timedelta(days=60),
    )
    slots = interview_slots(rules, school_calendar(), date(2025, 1, 6), date(2025, 2, 7))
    days = sorted({wall_clock(s.start)[0] for s in slots})
    assert days == [date(2025, 1, 9), date(2025, 1, 23), date(2025, 2, 6)]


def test_explicit_dates_and_agreed_minutes_skip_holidays():
    calendar = school_calendar(holidays=(DateRange(date(2025, 2, 17), date(2025, 2, 21)),))
    dates = frozenset({date(2025, 2, 10), date(2025, 2, 18), date(2025, 2, 25)})
    rules = agreement(attendance(PA, pattern=ExplicitDates(dates)))

    windows = rules.attendance_windows(PA, date(2025, 2, 1), date(2025, 2, 28), calendar)
    assert [wall_clock(w.start)[0] for w in windows] == [date(2025, 2, 10), date(2025, 2, 25)]
    assert rules.agreed_minutes(PA, date(2025, 2, 1), date(2025, 2, 28), calendar) == 2 * 180


def test_nearest_alternatives_are_closest_first_then_earlier():
    day = date(2025, 3, 3)
    slots = interview_slots(agreement(attendance(PA)), school_calendar(), day, day)
    wanted = london(2025, 3, 3, 10)  # 20 minutes from both 09:40 and 10:20

    nearest = nearest_alternatives(slots, wanted, n=3)
    assert [wall_clock(s.start)[1] for s in nearest] == [time(9, 40), time(10, 20), time(9)]


@pytest.mark.parametrize("share", [0.0, 0.3, 0.5])
@pytest.mark.parametrize("day", [date(2025, 3, 28), date(2025, 3, 31), date(2025, 10, 27)])
def test_slots_at_one_start_agree_with_the_whole_grid(share: float, day: date) -> None:
    """Booking looks at one start only; it must see exactly what the day's listing shows,
    on both sides of the clock changes, with reservations, busy time and buffers."""
    rules = agreement(
        attendance(PA, weekdays=frozenset(range(5))),
        attendance("pa-2", weekdays=frozenset(range(5)), start=time(10), end=time(14)),
        priority_share=share,
    )
    calendar = school_calendar()
    now = london(day.year, day.month, day.day) - timedelta(days=7)
    taken = london(day.year, day.month, day.day, 10, 20)
    busy = {PA: [Interval(taken, taken + timedelta(minutes=40))]}
    listed = interview_slots(rules, calendar, day, day, now=now, busy=busy)
    grid = day_grid(rules, calendar, SessionType.INTERVIEW, day)
    assert listed, "the example day has slots"
    for start in sorted({s.start for s in listed} | set(grid)):
        expected = [s for s in listed if s.start == start]
        assert slots_at(rules, SessionType.INTERVIEW, grid, start, now, busy) == expected
    assert slots_at(rules, SessionType.INTERVIEW, grid, london(2025, 3, 31, 9, 5), now, busy) == []


def test_slots_at_keeps_the_booking_window() -> None:
    rules = agreement(attendance(PA), minimum_notice=timedelta(hours=24))
    day = date(2025, 3, 3)
    grid = day_grid(rules, school_calendar(), SessionType.INTERVIEW, day)
    nine = london(2025, 3, 3, 9)
    assert slots_at(rules, SessionType.INTERVIEW, grid, nine, nine - timedelta(hours=25), {})
    assert not slots_at(rules, SessionType.INTERVIEW, grid, nine, nine - timedelta(hours=2), {})
