"""What booking's use cases need from storage: the unit of work and its repositories.

The adapters implement these over the database (`adapters/uow.py`); the unit tests, in
memory. A use case sees domain objects only, never a table or a statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, NamedTuple, Protocol, Self

from services.booking.application.schools import SchoolRecord
from services.booking.domain.agreement import PartnershipAgreement
from services.booking.domain.appointments import Appointment
from services.booking.domain.dropin_queue import DropInQueue, QueueEntry
from services.booking.domain.model import Interval, SessionType, Student
from services.booking.domain.placement import PlacementContext, PlacementRequest, Seat
from services.booking.domain.waitlist import Offer, WaitlistEntry
from shared.events import EventPayload


class LostRace(StrEnum):
    """A concurrent transaction got there first: the student's own time, or the place."""

    STUDENT = "student"
    PLACE = "place"


@dataclass(frozen=True)
class OfferRecord:
    """A waitlist offer as stored: the place held, for whom, until when, and its status."""

    id: str
    entry_id: str
    school_id: str
    student_id: str
    adviser_id: str
    session_type: SessionType
    interval: Interval
    location: str
    offered_at: datetime
    expires_at: datetime
    offered_to: frozenset[str]
    status: str


@dataclass(frozen=True)
class DropInSession:
    """A drop-in session of the agreement, stored under an id derived from what it is."""

    id: str
    school_id: str
    adviser_id: str
    starts_at: datetime
    ends_at: datetime
    location: str
    slot_minutes: int


class StoredQueue(NamedTuple):
    """A session's queue, and the stored entry id of each student still in it."""

    queue: DropInQueue
    open_ids: dict[str, str]


@dataclass(frozen=True)
class BusyTime:
    """What holds each adviser, and the students in each shared session by (adviser, time)."""

    by_adviser: dict[str, list[Interval]]
    seats: dict[tuple[str, Interval], int]


class Appointments(Protocol):
    async def get(self, appointment_id: str, *, for_update: bool = False) -> Appointment | None: ...
    async def of_student(self, student_id: str) -> list[Appointment]: ...
    async def add(self, appointment: Appointment, seat: Seat, now: datetime) -> None: ...
    async def update(
        self, appointment: Appointment, now: datetime, *, seat: Seat | None = None
    ) -> None: ...


class Placements(Protocol):
    async def context_for(self, request: PlacementRequest) -> PlacementContext: ...


class Schools(Protocol):
    async def get(self, school_id: str) -> SchoolRecord | None: ...
    async def agreement(self, school_id: str, day: date) -> PartnershipAgreement | None: ...


class Students(Protocol):
    async def get(self, student_id: str) -> Student | None: ...


class BusyTimes(Protocol):
    async def busy_time(
        self,
        adviser_ids: Sequence[str],
        start: datetime,
        end: datetime,
        *,
        student_id: str | None = None,
    ) -> BusyTime: ...


class Waitlist(Protocol):
    async def waiting(self, school_id: str, session_type: SessionType) -> dict[str, WaitlistEntry]:
        """The students waiting, by entry id."""
        ...

    async def waiting_entry_id(
        self, student_id: str, school_id: str, session_type: SessionType
    ) -> str | None: ...
    async def add_entry(self, entry_id: str, entry: WaitlistEntry) -> None: ...
    async def add_offer(self, offer_id: str, offer: Offer, entry_id: str) -> None: ...
    async def open_offer(self, offer_id: str, student_id: str) -> OfferRecord | None: ...
    async def open_offers_of(
        self, student_id: str, *, at: datetime | None = None
    ) -> list[OfferRecord]: ...
    async def next_lapsed(self, now: datetime) -> OfferRecord | None: ...
    async def end_offer(self, offer_id: str, outcome: str) -> None: ...
    async def entry_booked(self, entry_id: str) -> None: ...


class DropIns(Protocol):
    async def get(self, session_id: str) -> DropInSession | None: ...
    async def stored(self, ids: Sequence[str]) -> dict[str, DropInSession]: ...
    async def store(self, session: DropInSession) -> None: ...
    async def queue(self, session: DropInSession, *, lock: bool) -> StoredQueue: ...
    async def add_entry(self, session_id: str, entry: QueueEntry, position: int) -> None: ...
    async def update_entry(self, entry_id: str, entry: QueueEntry) -> None: ...


class SlotReads(Protocol):
    """What the slot search reads."""

    @property
    def schools(self) -> Schools: ...
    @property
    def students(self) -> Students: ...
    @property
    def busy(self) -> BusyTimes: ...


class BookingUnit(Protocol):
    """One business transaction over booking's repositories; see `shared.uow.UnitOfWork`.

    Enter it (`async with uow:`) for each attempt; leaving without `commit` rolls back.
    """

    @property
    def appointments(self) -> Appointments: ...
    @property
    def placements(self) -> Placements: ...
    @property
    def schools(self) -> Schools: ...
    @property
    def students(self) -> Students: ...
    @property
    def waitlist(self) -> Waitlist: ...
    @property
    def dropins(self) -> DropIns: ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def emit(self, payload: EventPayload, *, key: str) -> Any: ...
    async def commit(self) -> None: ...

    def lost_race(self, exc: BaseException) -> LostRace | None:
        """What `exc` says, if it is a concurrent transaction's win (then try again)."""
        ...
