"""Which slots a student can book: the agreement's windows, cut into a grid, minus busy time.

Slots are laid out in wall-clock time from the start of each attendance window and only then
converted to UTC, so 09:00 stays 09:00 on both sides of a clock change.

Priority reservation: of each adviser's grid on a day, slot i (counting from 0) is reserved
when floor((i + 1) * share) > floor(i * share). With a share of 0.3 that is the 4th, 7th and
10th slot of the day: exactly the share (rounded down), spread evenly, and fixed by the grid
alone, so a slot does not change status as others are booked. A reserved slot is shown only to
priority students until `priority_release` before it starts; then it opens to everyone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from services.booking.domain.agreement import AttendanceWindow, PartnershipAgreement
from services.booking.domain.calendar import SchoolCalendar
from services.booking.domain.errors import OutsideBookingWindow
from services.booking.domain.model import Interval, SessionType, as_utc

SeatsTaken = Mapping[tuple[str, Interval], int]


@dataclass(frozen=True)
class Slot:
    """A bookable time at one school, and the advisers (with their rooms) who could take it.

    `capacity_remaining` is the number of places left: 1 for one-to-one sessions.
    """

    interval: Interval
    school_id: str
    session_type: SessionType
    adviser_ids: tuple[str, ...]
    rooms: tuple[str, ...]
    capacity_remaining: int = 1
    priority_reserved: bool = False
    release_at: datetime | None = None

    @property
    def start(self) -> datetime:
        return self.interval.start

    @property
    def end(self) -> datetime:
        return self.interval.end

    @property
    def room(self) -> str:
        """The room of the first adviser; use `room_for` once an adviser is chosen."""
        return self.rooms[0]

    def room_for(self, adviser_id: str) -> str:
        return self.rooms[self.adviser_ids.index(adviser_id)]

    def visible_to(self, priority_student: bool, now: datetime) -> bool:
        """Whether a student may see (and book) this slot at `now`."""
        if not self.priority_reserved or priority_student:
            return True
        return self.release_at is not None and now >= self.release_at


@dataclass(frozen=True)
class GridSlot:
    """One adviser's place in the day's grid, before busy time is taken out."""

    adviser_id: str
    interval: Interval
    room: str
    reserved: bool
    capacity_remaining: int


def bookable_slots(
    agreement: PartnershipAgreement,
    calendar: SchoolCalendar,
    session_type: SessionType,
    from_dt: datetime,
    to_dt: datetime,
    now: datetime,
    busy: Mapping[str, Sequence[Interval]],
    buffer: timedelta | None = None,
    seats_taken: SeatsTaken | None = None,
) -> list[Slot]:
    """Free slots of `session_type` starting in [from_dt, to_dt), sorted by start.

    A slot must start at least `minimum_notice` and at most `horizon` after `now`.

    `busy` holds, per adviser, imported personal-calendar time and existing appointments.
    `buffer` (default: the session type's) is kept free between a slot and any busy time.
    For shared (group) sessions, `seats_taken` counts students already booked into an
    adviser's session at exactly that interval: it stays offered while places remain.
    """
    config = agreement.config(session_type)
    margin = config.buffer if buffer is None else buffer
    earliest = max(as_utc(from_dt), as_utc(now) + agreement.minimum_notice)
    latest = as_utc(now) + agreement.horizon
    seats = seats_taken or {}
    offers: list[GridSlot] = []
    first, last = calendar.local_date(earliest), calendar.local_date(min(as_utc(to_dt), latest))
    for adviser_id in agreement.adviser_ids:
        for offer in _adviser_grid(agreement, calendar, adviser_id, session_type, first, last):
            start = offer.interval.start
            if not (earliest <= start < as_utc(to_dt) and start <= latest):
                continue
            free = _free(offer, config.capacity, busy, margin, seats)
            if free is not None:
                offers.append(free)
    return _combine(offers, agreement, session_type)


def day_grid(
    agreement: PartnershipAgreement,
    calendar: SchoolCalendar,
    session_type: SessionType,
    day: date,
) -> dict[datetime, tuple[GridSlot, ...]]:
    """Every adviser's grid of `session_type` on the local date `day`, keyed by UTC start.

    It depends on the agreement and the calendar alone, so a caller may keep it while they
    stay unchanged; `slots_at` then takes out busy time for one start.
    """
    by_start: dict[datetime, list[GridSlot]] = defaultdict(list)
    for adviser_id in agreement.adviser_ids:
        for offer in _adviser_grid(agreement, calendar, adviser_id, session_type, day, day):
            by_start[offer.interval.start].append(offer)
    return {start: tuple(offers) for start, offers in by_start.items()}


def slots_at(
    agreement: PartnershipAgreement,
    session_type: SessionType,
    grid: Mapping[datetime, Sequence[GridSlot]],
    start: datetime,
    now: datetime,
    busy: Mapping[str, Sequence[Interval]],
    seats_taken: SeatsTaken | None = None,
) -> list[Slot]:
    """The free slots starting exactly at `start`: `bookable_slots` narrowed to one start.

    `grid` is `day_grid` for the local date of `start`. The same rules apply: minimum notice,
    horizon, buffers around busy time and places left in shared sessions.
    """
    config = agreement.config(session_type)
    wanted = as_utc(start)
    if not (as_utc(now) + agreement.minimum_notice <= wanted <= as_utc(now) + agreement.horizon):
        return []
    seats = seats_taken or {}
    offers = [
        free
        for offer in grid.get(wanted, ())
        if (free := _free(offer, config.capacity, busy, config.buffer, seats)) is not None
    ]
    return _combine(offers, agreement, session_type)


def _free(
    offer: GridSlot,
    capacity: int,
    busy: Mapping[str, Sequence[Interval]],
    margin: timedelta,
    seats: SeatsTaken,
) -> GridSlot | None:
    """The offer with its places left, or None when the adviser is busy or it is full."""
    taken = seats.get((offer.adviser_id, offer.interval), 0)
    if taken < capacity and _is_free(
        offer.interval, busy.get(offer.adviser_id, ()), margin, taken > 0
    ):
        return replace(offer, capacity_remaining=capacity - taken)
    return None


def visible_slots(slots: Sequence[Slot], priority_student: bool, now: datetime) -> list[Slot]:
    """The slots a student sees at `now`; reserved slots stay hidden from others until release."""
    return [slot for slot in slots if slot.visible_to(priority_student, now)]


def nearest_alternatives(slots: Sequence[Slot], wanted_start: datetime, n: int = 3) -> list[Slot]:
    """The `n` slots starting closest to `wanted_start`; on a tie the earlier one first."""
    wanted = as_utc(wanted_start)
    return sorted(slots, key=lambda slot: (abs(slot.start - wanted), slot.start))[:n]


def check_booking_window(agreement: PartnershipAgreement, start: datetime, now: datetime) -> None:
    """Refuse a start time that breaks the school's minimum notice or booking horizon."""
    earliest = as_utc(now) + agreement.minimum_notice
    latest = as_utc(now) + agreement.horizon
    if not earliest <= as_utc(start) <= latest:
        raise OutsideBookingWindow(as_utc(start), earliest, latest, now=as_utc(now))


def _adviser_grid(
    agreement: PartnershipAgreement,
    calendar: SchoolCalendar,
    adviser_id: str,
    session_type: SessionType,
    first: date,
    last: date,
) -> list[GridSlot]:
    """Every slot of the adviser's windows for `session_type`, marked reserved or not."""
    config = agreement.config(session_type)
    step = config.length + config.buffer
    by_day: dict[date, list[tuple[Interval, str]]] = defaultdict(list)
    for window, room in _windows_for(agreement, calendar, adviser_id, session_type, first, last):
        for interval in _grid(window, config.length, step, calendar.zone):
            by_day[calendar.local_date(interval.start)].append((interval, room))
    share = Fraction(agreement.priority_share).limit_denominator(1000)
    return [
        GridSlot(adviser_id, interval, room, _is_reserved(index, share), config.capacity)
        for day in sorted(by_day)
        for index, (interval, room) in enumerate(by_day[day])
    ]


def _windows_for(
    agreement: PartnershipAgreement,
    calendar: SchoolCalendar,
    adviser_id: str,
    session_type: SessionType,
    first: date,
    last: date,
) -> list[tuple[Interval, str]]:
    """Windows offering `session_type`, less time a shorter overlapping attendance takes over.

    A lunchtime drop-in session inside an interview day therefore splits the interview grid,
    while the drop-in session itself keeps its time.
    """
    windows = agreement.windows(adviser_id, first, last, calendar)
    return [
        (piece, window.room)
        for window in windows
        if session_type in window.session_types
        for piece in window.interval.minus(_taken_over(window, windows, session_type))
    ]


def _taken_over(
    window: AttendanceWindow, windows: list[AttendanceWindow], session_type: SessionType
) -> list[Interval]:
    return [
        other.interval
        for other in windows
        if session_type not in other.session_types
        and other.interval.duration < window.interval.duration
    ]


def _grid(window: Interval, length: timedelta, step: timedelta, zone: ZoneInfo) -> list[Interval]:
    """Back-to-back slots from the window's start, stepped in wall-clock time."""
    wall = window.start.astimezone(zone).replace(tzinfo=None)
    slots: list[Interval] = []
    while True:
        slot = Interval(wall.replace(tzinfo=zone), (wall + length).replace(tzinfo=zone))
        if slot.end > window.end:
            return slots
        slots.append(slot)
        wall += step


def _is_reserved(index: int, share: Fraction) -> bool:
    """floor((i + 1) * share) > floor(i * share), in integers: this runs for every slot."""
    top, bottom = share.numerator, share.denominator
    return (index + 1) * top // bottom > index * top // bottom


def _is_free(interval: Interval, busy: Sequence[Interval], margin: timedelta, shared: bool) -> bool:
    """No busy time within `margin` of the slot; a shared session does not block itself."""
    padded = interval.padded(margin) if margin else interval
    return not any(padded.overlaps(other) for other in busy if not (shared and other == interval))


def _combine(
    offers: list[GridSlot], agreement: PartnershipAgreement, session_type: SessionType
) -> list[Slot]:
    """One slot per time, reservation and places left, listing every adviser who could take it."""
    grouped: dict[tuple[Interval, bool, int], list[GridSlot]] = defaultdict(list)
    for offer in offers:
        grouped[(offer.interval, offer.reserved, offer.capacity_remaining)].append(offer)
    slots = []
    for (interval, reserved, remaining), group in sorted(grouped.items()):
        group.sort(key=lambda offer: offer.adviser_id)
        slots.append(
            Slot(
                interval=interval,
                school_id=agreement.school_id,
                session_type=session_type,
                adviser_ids=tuple(offer.adviser_id for offer in group),
                rooms=tuple(offer.room for offer in group),
                capacity_remaining=remaining,
                priority_reserved=reserved,
                release_at=interval.start - agreement.priority_release if reserved else None,
            )
        )
    return slots
