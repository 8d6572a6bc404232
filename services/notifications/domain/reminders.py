"""When to remind someone of an appointment.

Rules, in the school's local time: each reminder is due a fixed time before the start; the
day-before reminder that would fall at night or at a weekend goes at 16:00 on the previous
school day (Monday to Friday) instead; none is sent during quiet hours (a reminder that
would fall there moves to the end of the quiet hours if that is still early enough,
otherwise to the evening before); none is sent later
than `min_lead` before the start, because a reminder that arrives after the appointment is
worse than none; reminders already in the past are dropped, but a booking made at short
notice still gets one reminder straight away (or at the end of the quiet hours) if there is
time before the start; one made during the night for early the next morning gets none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class ReminderPolicy:
    offsets: tuple[tuple[str, timedelta], ...] = (
        ("day_before", timedelta(hours=24)),
        ("same_day", timedelta(hours=2)),
    )
    quiet_starts: time = time(20, 0)
    quiet_ends: time = time(8, 0)
    min_lead: timedelta = timedelta(minutes=30)
    merge_within: timedelta = timedelta(hours=1)
    school_day_kinds: tuple[str, ...] = ("day_before",)
    school_day_time: time = time(16, 0)


@dataclass(frozen=True)
class PlannedReminder:
    kind: str
    due_at: datetime


def plan_reminders(
    starts_at: datetime, now: datetime, zone: ZoneInfo, policy: ReminderPolicy | None = None
) -> list[PlannedReminder]:
    """The reminders to schedule for an appointment starting at `starts_at` (aware datetimes)."""
    policy = policy or ReminderPolicy()
    latest = starts_at - policy.min_lead
    planned: list[PlannedReminder] = []
    for kind, offset in policy.offsets:
        wanted = starts_at - offset
        if kind in policy.school_day_kinds and _night_or_weekend(wanted, zone, policy):
            due: datetime | None = _previous_school_day(starts_at, zone, policy)
        else:
            due = _outside_quiet_hours(wanted, latest, zone, policy)
        if due is not None and now <= due <= latest:
            planned.append(PlannedReminder(kind, due))
    if not planned and now <= latest:
        due = _outside_quiet_hours(now, latest, zone, policy)
        if due is not None and now <= due <= latest:
            planned.append(PlannedReminder("short_notice", due))
    return _merge_close(sorted(planned, key=lambda r: r.due_at), policy.merge_within)


def in_quiet_hours(moment: datetime, zone: ZoneInfo, policy: ReminderPolicy) -> bool:
    local = moment.astimezone(zone).time()
    if policy.quiet_starts > policy.quiet_ends:  # the usual case: the window spans midnight
        return local >= policy.quiet_starts or local < policy.quiet_ends
    return policy.quiet_starts <= local < policy.quiet_ends


def _night_or_weekend(moment: datetime, zone: ZoneInfo, policy: ReminderPolicy) -> bool:
    return in_quiet_hours(moment, zone, policy) or moment.astimezone(zone).weekday() >= 5


def _previous_school_day(starts_at: datetime, zone: ZoneInfo, policy: ReminderPolicy) -> datetime:
    day = starts_at.astimezone(zone).date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return datetime.combine(day, policy.school_day_time, zone)


def _outside_quiet_hours(
    due: datetime, latest: datetime, zone: ZoneInfo, policy: ReminderPolicy
) -> datetime | None:
    if not in_quiet_hours(due, zone, policy):
        return due
    local = due.astimezone(zone)
    morning_date = local.date() if local.time() < policy.quiet_ends else local.date() + timedelta(1)
    morning = datetime.combine(morning_date, policy.quiet_ends, zone)
    if morning <= latest:
        return morning
    evening = datetime.combine(morning_date - timedelta(1), policy.quiet_starts, zone)
    return evening - timedelta(minutes=15)


def _merge_close(reminders: list[PlannedReminder], within: timedelta) -> list[PlannedReminder]:
    merged: list[PlannedReminder] = []
    for reminder in reminders:
        if merged and reminder.due_at - merged[-1].due_at < within:
            continue
        merged.append(reminder)
    return merged
