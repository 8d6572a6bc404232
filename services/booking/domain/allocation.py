"""Which adviser gets an appointment.

Rules, in order: only advisers present at this school for the whole appointment, free then,
and of the kind the need calls for (guidance unless a referral says otherwise). Among those,
a targeted (priority) student keeps the adviser they saw before; otherwise a requested adviser
is honoured where the agreement allows it; otherwise the least-loaded adviser (booked minutes
over agreed minutes in the period) gets it.

"Least loaded" is a band, not a single adviser: every adviser whose share of agreed time is
below what the lightest one's would be after taking this appointment counts as level, so
loads stay within about one appointment of each other. Within the band a hash of the student
and adviser ids decides: the same inputs always give the same answer, yet students booking
the same time at once spread over the level advisers. Picking the single lightest instead
would send every simultaneous booking to the same adviser, and all but one of them would
lose the race at the database and start again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from services.booking.domain.errors import NoAdviserAvailable
from services.booking.domain.model import AdviserKind, AppointmentStatus, Interval


class AllocationReason(StrEnum):
    CONTINUITY = "continuity"
    REQUESTED = "requested"
    LEAST_LOADED = "least_loaded"


@dataclass(frozen=True)
class AllocationRequest:
    school_id: str
    student_id: str
    interval: Interval
    required_kind: AdviserKind | None = None
    priority_student: bool = False
    requested_adviser_id: str | None = None
    requests_allowed: bool = True

    @property
    def kind(self) -> AdviserKind:
        return self.required_kind or AdviserKind.GUIDANCE


@dataclass(frozen=True)
class Candidate:
    """An adviser who might take the appointment: their kind, windows at the school, busy time.

    `windows` are the adviser's attendance windows at `school_id`; `busy` is personal-calendar
    time and existing appointments (with any buffer already applied by the caller).
    """

    adviser_id: str
    kind: AdviserKind
    school_id: str
    windows: tuple[Interval, ...]
    busy: tuple[Interval, ...] = ()

    def is_present_for(self, interval: Interval) -> bool:
        return any(window.contains(interval) for window in self.windows)

    def is_free_for(self, interval: Interval) -> bool:
        return not any(other.overlaps(interval) for other in self.busy)


class PastSession(Protocol):
    """A session the student had: who they saw, when, and whether they came.

    An `Appointment` satisfies it, as does any row with these attributes.
    """

    @property
    def adviser_id(self) -> str: ...

    @property
    def student_id(self) -> str: ...

    @property
    def interval(self) -> Interval: ...

    @property
    def status(self) -> AppointmentStatus: ...


@dataclass(frozen=True)
class AdviserLoad:
    booked_minutes: int
    agreed_minutes: int

    @property
    def ratio(self) -> float:
        """Share of agreed time already booked; with no agreed time the adviser is 'full'."""
        if self.agreed_minutes <= 0:
            return float("inf")
        return self.booked_minutes / self.agreed_minutes


@dataclass(frozen=True)
class AllocationDecision:
    adviser_id: str
    reason: AllocationReason


def allocate_adviser(
    request: AllocationRequest,
    candidates: Sequence[Candidate],
    history: Sequence[PastSession],
    loads: Mapping[str, AdviserLoad],
) -> AllocationDecision:
    """Choose the adviser for `request`, or raise `NoAdviserAvailable` saying why not."""
    eligible = {c.adviser_id: c for c in _eligible(request, candidates)}
    for adviser_id in _continuity(request, history):
        if adviser_id in eligible:
            return AllocationDecision(adviser_id, AllocationReason.CONTINUITY)
    requested = request.requested_adviser_id
    if request.requests_allowed and requested in eligible:
        return AllocationDecision(requested, AllocationReason.REQUESTED)
    chosen = min(
        _least_loaded(eligible, loads, request.interval.minutes),
        key=lambda adviser_id: (_tie_break(request.student_id, adviser_id), adviser_id),
    )
    return AllocationDecision(chosen, AllocationReason.LEAST_LOADED)


def _least_loaded(
    eligible: Mapping[str, Candidate], loads: Mapping[str, AdviserLoad], minutes: int
) -> list[str]:
    """The advisers within one appointment of the lightest (see the module's docstring).

    With no agreed time anywhere every share is infinite; then they are all equally 'full'.
    """
    now = {adviser_id: _ratio(loads, adviser_id) for adviser_id in eligible}
    lightest_after = min(_ratio(loads, adviser_id, minutes) for adviser_id in eligible)
    band = [adviser_id for adviser_id, ratio in now.items() if ratio < lightest_after]
    if band:
        return band
    fewest = min(now.values())
    return [adviser_id for adviser_id, ratio in now.items() if ratio == fewest]


def _eligible(request: AllocationRequest, candidates: Sequence[Candidate]) -> list[Candidate]:
    """Filter in stages so that the refusal names the rule that left nobody."""
    stages = (
        (
            "no adviser is at the school at that time",
            lambda c: c.school_id == request.school_id and c.is_present_for(request.interval),
        ),
        ("no adviser of the kind needed is there then", lambda c: c.kind is request.kind),
        ("every suitable adviser is busy at that time", lambda c: c.is_free_for(request.interval)),
    )
    remaining = list(candidates)
    for why, keep in stages:
        remaining = [candidate for candidate in remaining if keep(candidate)]
        if not remaining:
            raise NoAdviserAvailable(why)
    return remaining


def _continuity(request: AllocationRequest, history: Sequence[PastSession]) -> list[str]:
    """Advisers a targeted student has seen, most recent first."""
    if not request.priority_student:
        return []
    seen = [
        past
        for past in history
        if past.student_id == request.student_id and past.status is AppointmentStatus.ATTENDED
    ]
    seen.sort(key=lambda past: past.interval.start, reverse=True)
    return list(dict.fromkeys(past.adviser_id for past in seen))


def _tie_break(student_id: str, adviser_id: str) -> bytes:
    return hashlib.blake2b(f"{student_id}|{adviser_id}".encode(), digest_size=8).digest()


def _ratio(loads: Mapping[str, AdviserLoad], adviser_id: str, extra_minutes: int = 0) -> float:
    """The adviser's share of agreed time, with `extra_minutes` more booked.

    An adviser without a load entry counts as having nothing booked against ample time.
    """
    load = loads.get(adviser_id)
    if load is None:
        return 0.0
    if extra_minutes:
        load = AdviserLoad(load.booked_minutes + extra_minutes, load.agreed_minutes)
    return load.ratio
