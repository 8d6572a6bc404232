"""When reminders fall: before the appointment, never at night, never too late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from services.notifications.domain.reminders import (
    ReminderPolicy,
    in_quiet_hours,
    plan_reminders,
)

LONDON = ZoneInfo("Europe/London")
POLICY = ReminderPolicy()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


def test_a_morning_appointment_booked_well_ahead_gets_two_reminders() -> None:
    starts = local(2027, 1, 12, 11, 0)
    plan = plan_reminders(starts, local(2027, 1, 1, 9, 0), LONDON)
    assert [(r.kind, r.due_at.astimezone(LONDON)) for r in plan] == [
        ("day_before", local(2027, 1, 11, 11, 0)),
        ("same_day", local(2027, 1, 12, 9, 0)),
    ]


def test_a_reminder_that_would_fall_at_night_moves_to_the_morning() -> None:
    starts = local(2027, 1, 12, 9, 0)  # the same-day reminder would be 07:00
    plan = plan_reminders(starts, local(2027, 1, 1, 9, 0), LONDON)
    assert plan[-1].due_at.astimezone(LONDON) == local(2027, 1, 12, 8, 0)


def test_an_early_appointment_gets_its_reminder_the_evening_before() -> None:
    starts = local(2027, 1, 12, 8, 20)  # 08:00 would be less than 30 minutes before
    plan = plan_reminders(starts, local(2027, 1, 1, 9, 0), LONDON)
    assert all(not in_quiet_hours(r.due_at, LONDON, POLICY) for r in plan)
    assert all(r.due_at <= starts - POLICY.min_lead for r in plan)


def test_a_booking_at_short_notice_gets_one_reminder_now() -> None:
    now = local(2027, 1, 12, 10, 0)
    plan = plan_reminders(local(2027, 1, 12, 11, 0), now, LONDON)
    assert [(r.kind, r.due_at) for r in plan] == [("short_notice", now)]


def test_a_booking_made_at_night_for_first_thing_gets_no_night_time_reminder() -> None:
    plan = plan_reminders(local(2027, 1, 12, 8, 15), local(2027, 1, 11, 23, 30), LONDON)
    assert plan == []


def test_no_reminder_when_the_appointment_is_about_to_start() -> None:
    assert plan_reminders(local(2027, 1, 12, 11, 0), local(2027, 1, 12, 10, 45), LONDON) == []


def test_reminders_follow_local_time_across_the_clock_change() -> None:
    starts = local(2027, 3, 30, 10, 0)  # the Tuesday after the clocks go forward
    plan = plan_reminders(starts, local(2027, 3, 1, 9, 0), LONDON)
    assert plan[0].due_at.astimezone(LONDON) == local(2027, 3, 29, 10, 0)
    assert plan[0].due_at.utcoffset() == timedelta(hours=1)


def test_a_monday_appointment_is_reminded_on_friday_afternoon_across_the_clock_change() -> None:
    starts = local(2027, 3, 29, 10, 0)  # the day before would be Sunday, the day of the change
    plan = plan_reminders(starts, local(2027, 3, 1, 9, 0), LONDON)
    assert plan[0].kind == "day_before"
    assert plan[0].due_at.astimezone(LONDON) == local(2027, 3, 26, 16, 0)
    assert plan[0].due_at.astimezone(UTC).hour == 16  # still GMT on the Friday


def test_a_day_before_reminder_that_would_fall_at_night_goes_the_school_day_before_at_four() -> (
    None
):
    starts = local(2027, 1, 13, 7, 45)  # the day before would be 07:45, in quiet hours
    plan = plan_reminders(starts, local(2027, 1, 1, 9, 0), LONDON)
    assert plan[0].kind == "day_before"
    assert plan[0].due_at.astimezone(LONDON) == local(2027, 1, 12, 16, 0)


@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
    lead=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
)
def test_every_planned_reminder_is_in_time_and_in_daytime(start: datetime, lead: timedelta) -> None:
    now = start - lead
    for reminder in plan_reminders(start, now, LONDON):
        assert now <= reminder.due_at <= start - POLICY.min_lead
        assert not in_quiet_hours(reminder.due_at, LONDON, POLICY)
