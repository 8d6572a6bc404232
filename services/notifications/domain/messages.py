"""Which messages an event calls for, to whom, by which channel, and when they may go.

Pure rules with no I/O. Every message has a due time (never in quiet hours, in the school's
local time) and an expiry (the moment it is about): a message not handed over by then is
not sent at all, and an SMS carries the time left as Twilio's validity period.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from services.notifications.domain.reminders import ReminderPolicy, in_quiet_hours

SMS, EMAIL = "sms", "email"


class Kind(StrEnum):
    CONFIRMATION = "booking_confirmation"
    REMINDER_DAY_BEFORE = "reminder_day_before"
    REMINDER_SAME_DAY = "reminder_same_day"
    REMINDER_SHORT_NOTICE = "reminder_short_notice"
    RESCHEDULED = "appointment_rescheduled"
    CANCELLED = "appointment_cancelled"
    WAITLIST_OFFER = "waitlist_offer"
    DROPIN_TURN = "dropin_turn"
    NO_SHOW_CHASE = "no_show_chase"
    NO_SHOW_COORDINATOR = "no_show_coordinator"
    PLACEMENT_PUBLISHED = "placement_published"
    PLACEMENT_STARTING = "placement_starting"
    EMPLOYER_LIST = "employer_list"
    ADVISER_CLASH = "adviser_clash"


REMINDER_KINDS = {
    "day_before": Kind.REMINDER_DAY_BEFORE,
    "same_day": Kind.REMINDER_SAME_DAY,
    "short_notice": Kind.REMINDER_SHORT_NOTICE,
}


@dataclass(frozen=True)
class KindRule:
    """How one kind of message goes out.

    `channels` are those allowed, in the order tried when the person states no preference;
    `parent_copy` sends a copy to consenting parents; `variants` are the A/B wordings;
    `calendar` attaches an invitation (`request`) or its withdrawal (`cancel`) to emails.
    """

    channels: tuple[str, ...] = (SMS, EMAIL)
    parent_copy: bool = False
    variants: tuple[str, ...] = ("a",)
    calendar: str | None = None


RULES: dict[Kind, KindRule] = {
    Kind.CONFIRMATION: KindRule(parent_copy=True, calendar="request"),
    # The NHS trials found that wording which states the consequence cuts missed
    # appointments; both wordings run and each message records which it got.
    Kind.REMINDER_DAY_BEFORE: KindRule(variants=("a", "b")),
    Kind.REMINDER_SAME_DAY: KindRule(channels=(SMS,), variants=("a", "b")),
    Kind.REMINDER_SHORT_NOTICE: KindRule(channels=(SMS, EMAIL), variants=("a", "b")),
    Kind.RESCHEDULED: KindRule(parent_copy=True, calendar="request"),
    Kind.CANCELLED: KindRule(parent_copy=True, calendar="cancel"),
    Kind.WAITLIST_OFFER: KindRule(),
    Kind.DROPIN_TURN: KindRule(channels=(SMS,)),
    Kind.NO_SHOW_CHASE: KindRule(),
    Kind.NO_SHOW_COORDINATOR: KindRule(channels=(EMAIL,)),
    Kind.PLACEMENT_PUBLISHED: KindRule(parent_copy=True),
    Kind.PLACEMENT_STARTING: KindRule(),
    Kind.EMPLOYER_LIST: KindRule(channels=(EMAIL,)),
    # A PA's own calendar now shows them busy during a booked appointment: tell the PA.
    Kind.ADVISER_CLASH: KindRule(channels=(EMAIL, SMS)),
}

# How long "come now" stays worth saying; after that the student has been skipped.
DROPIN_TURN_VALID = timedelta(minutes=15)
# A chase is about today's missed appointment; tomorrow it would be stale.
NO_SHOW_VALID = timedelta(days=2)
ANNOUNCEMENT_VALID = timedelta(days=14)


@dataclass(frozen=True)
class Route:
    """One contact route as the read model holds it, with what the person chose."""

    role: str
    phone: str | None
    email: str | None
    sms_consent: bool
    email_consent: bool
    preferred: tuple[str, ...] = ()
    sms_undeliverable: bool = False
    email_undeliverable: bool = False


def choose_channel(rule: KindRule, route: Route, chosen: str | None = None) -> str | None:
    """The one channel to use for `route`, or None when none is allowed, consented and usable."""
    for channel in (chosen, *route.preferred, *rule.channels):
        if channel in rule.channels and usable(route, channel):
            return channel
    return None


def usable(route: Route, channel: str | None) -> bool:
    if channel == SMS:
        return bool(route.phone) and route.sms_consent and not route.sms_undeliverable
    if channel == EMAIL:
        return bool(route.email) and route.email_consent and not route.email_undeliverable
    return False


def assign_variant(rule: KindRule, key: str) -> str:
    """A stable A/B assignment from the message's identity (the same on every replay)."""
    digest = hashlib.sha256(key.encode()).digest()
    return rule.variants[digest[0] % len(rule.variants)]


def next_daytime(moment: datetime, zone: ZoneInfo, policy: ReminderPolicy) -> datetime:
    """`moment`, or the end of the quiet hours it falls in (local time, so both clock
    changes are handled by the zone's rules)."""
    if not in_quiet_hours(moment, zone, policy):
        return moment
    local = moment.astimezone(zone)
    day = local.date() if local.time() < policy.quiet_ends else local.date() + timedelta(1)
    return datetime.combine(day, policy.quiet_ends, zone)


def at_once(
    now: datetime, expires: datetime, zone: ZoneInfo, policy: ReminderPolicy
) -> datetime | None:
    """When an "at once" message may go: now, or after the quiet hours; None if too late."""
    due = next_daytime(now, zone, policy)
    return due if due < expires else None


def friday_before(week_starts: date, zone: ZoneInfo, at: time = time(16, 0)) -> datetime:
    """The reminder for a placement week: the last Friday before it, after school."""
    day = week_starts - timedelta(days=1)
    while day.weekday() != 4:
        day -= timedelta(days=1)
    return datetime.combine(day, at, zone)


def validity_seconds(now: datetime, expires: datetime) -> int:
    """Twilio's `ValidityPeriod`: the time left before the message is stale (1 s to 10 h)."""
    return max(1, min(36000, int((expires - now).total_seconds())))
