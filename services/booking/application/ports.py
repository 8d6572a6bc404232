"""What booking's use cases need from storage: the unit of work and its repositories.

The adapters implement these over the database (`adapters/uow.py`); the unit tests, in
memory. A use case sees domain objects only, never a table or a statement.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from services.booking.application.schools import SchoolRecord
from services.booking.domain.agreement import PartnershipAgreement
from services.booking.domain.appointments import Appointment
from services.booking.domain.dropin_queue import DropInQueue, QueueEntry
from services.booking.domain.model import Interval, SessionType, Student
from services.booking.domain.placement import PlacementContext, PlacementRequest, Seat
from services.booking.domain.waitlist import Offer, WaitlistEntry
from shared.auth.principal import Role
from shared.events import EventPayload
from shared.ports import Transaction

if TYPE_CHECKING:
    from services.booking.application.agreements import AgreementTerms


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


class StudentLabel(NamedTuple):
    """How staff pages name a student: initials in lists, the full name on the record."""

    id: str
    school_id: str
    year_group: int
    display_name: str | None
    reference: str | None

    @property
    def initials(self) -> str:
        parts = (self.display_name or "").split()
        return "".join(part[0].upper() for part in parts) or "?"


class StoredQueue(NamedTuple):
    """A session's queue, and the stored entry id of each student still in it."""

    queue: DropInQueue
    open_ids: dict[str, str]


@dataclass(frozen=True)
class BusyTime:
    """What holds each adviser, and the students in each shared session by (adviser, time)."""

    by_adviser: dict[str, list[Interval]]
    seats: dict[tuple[str, Interval], int]


@dataclass(frozen=True)
class StudentOnFile:
    """What an erasure keeps of a student (on the pseudonym), and their record's revision."""

    school_id: str
    year_group: int
    revision: int


@dataclass(frozen=True)
class Account:
    """A sign-in account; without a password hash until its holder sets one."""

    id: str
    role: Role
    school_ids: tuple[str, ...]
    ebp_id: str | None
    active: bool
    password_hash: str | None
    email: str = ""


class Appointments(Protocol):
    async def get(self, appointment_id: str, *, for_update: bool = False) -> Appointment | None: ...
    async def of_student(self, student_id: str) -> list[Appointment]: ...
    async def at_school(
        self, school_id: str, start: datetime, end: datetime
    ) -> list[Appointment]: ...
    async def add(self, appointment: Appointment, seat: Seat, now: datetime) -> None: ...
    async def update(
        self, appointment: Appointment, now: datetime, *, seat: Seat | None = None
    ) -> None: ...


@dataclass(frozen=True)
class ContactAlert:
    """A contact route notifications could not deliver to, as it last reported it."""

    owner_id: str
    owner_kind: str
    role: str
    route: int
    channel: str
    reason: str
    school_id: str | None
    reported_at: datetime


class Placements(Protocol):
    async def context_for(self, request: PlacementRequest) -> PlacementContext: ...


class Schools(Protocol):
    async def get(self, school_id: str) -> SchoolRecord | None: ...
    async def agreement(self, school_id: str, day: date) -> PartnershipAgreement | None: ...


class Students(Protocol):
    async def get(self, student_id: str) -> Student | None: ...
    async def of_school(self, school_id: str) -> list[Student]: ...


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

    async def waiting_at(self, school_id: str) -> list[WaitlistEntry]: ...
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
    async def at_school(
        self, school_id: str, start: datetime, end: datetime
    ) -> list[DropInSession]: ...
    async def store(self, session: DropInSession) -> None: ...
    async def queue(self, session: DropInSession, *, lock: bool) -> StoredQueue: ...
    async def add_entry(self, session_id: str, entry: QueueEntry, position: int) -> None: ...
    async def update_entry(self, entry_id: str, entry: QueueEntry) -> None: ...


class DirectoryRecords(Protocol):
    """The directory's records as plain values, by table name and id."""

    async def existing_ids(self, table: str, ids: Collection[str]) -> set[str]: ...
    async def stored(self, table: str, ids: Collection[str]) -> dict[str, dict[str, Any]]: ...
    async def write(
        self, table: str, values: dict[str, Any], now: datetime, *, new: bool, counted: bool
    ) -> int | None:
        """Insert or update; when `counted`, the record's revision, raised in the write."""
        ...

    async def named(self, role: str) -> dict[str, str]:
        """Each school's `coordinator` or `lead` adviser, by school id, where named."""
        ...

    async def name_coordinator(self, school_id: str, staff_id: str) -> None: ...
    async def name_lead(self, school_id: str, adviser_id: str) -> None: ...
    async def school_of_student(self, student_id: str) -> str | None: ...


class Agreements(Protocol):
    async def terms(self, school_id: str, academic_year: str) -> AgreementTerms | None: ...
    async def save(self, values: dict[str, Any]) -> None: ...


class Erasures(Protocol):
    async def locked_student(self, student_id: str) -> StudentOnFile | None: ...
    async def forget(self, student_id: str, pseudonym: str, student: StudentOnFile) -> int:
        """Re-point the student's appointments at `pseudonym`, delete the rest: the count kept."""
        ...

    async def redact_events(self, key: str, keep_types: Collection[str]) -> None: ...
    async def open_sessions(self, student_id: str, now: datetime) -> list[str]:
        """The ids of the sessions still open on the student's account."""
        ...


class AccountStore(Protocol):
    """Accounts and sessions; each call is a transaction of its own."""

    async def by_email(self, email: str) -> Account | None: ...
    async def open_session(
        self,
        session_id: str,
        account_id: str,
        created_at: datetime,
        expires_at: datetime,
        *,
        rehashed: str | None = None,
    ) -> None: ...
    async def revoke(self, session_id: str, at: datetime, *, tokens_until: datetime) -> None:
        """End the session, and have every service refuse its tokens until `tokens_until`."""
        ...

    async def open_until(self, session_id: str) -> datetime | None:
        """When the session ends; None if there is none or it was revoked."""
        ...

    async def by_id(self, account_id: str) -> Account | None: ...
    async def change_password(
        self,
        account_id: str,
        password_hash: str,
        at: datetime,
        *,
        keep: str,
        tokens_until: datetime,
    ) -> list[str]:
        """Store the new hash and end every other open session of the account (announcing
        each); the ids of the sessions ended."""
        ...

    async def set_active(
        self, account_id: str, active: bool, at: datetime, *, tokens_until: datetime
    ) -> list[str] | None:
        """Enable or disable the account (disabling ends its open sessions, announced); the
        ids of the sessions ended, or None if there is no such account."""
        ...

    async def revoke_all(
        self, account_id: str, at: datetime, *, tokens_until: datetime, reason: str
    ) -> list[str] | None:
        """End every open session of the account; None if there is no such account."""
        ...

    async def seen(self, session_id: str, at: datetime) -> None:
        """Note that the session made a request at `at`."""
        ...


class DeviceTokens(Protocol):
    """Signed device cookies: proof that this browser signed in to an account before."""

    def issue(self, email: str) -> str: ...
    def device_of(self, token: str, email: str) -> str | None:
        """The device's id if `token` was issued for `email`, otherwise None."""
        ...


class SlotReads(Protocol):
    """What the slot search reads."""

    @property
    def schools(self) -> Schools: ...
    @property
    def students(self) -> Students: ...
    @property
    def busy(self) -> BusyTimes: ...


class BookingUnit(Transaction, Protocol):
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

    def lost_race(self, exc: BaseException) -> LostRace | None:
        """What `exc` says, if it is a concurrent transaction's win (then try again)."""
        ...


class ErasureUnit(BookingUnit, Protocol):
    @property
    def erasures(self) -> Erasures: ...


class ReferenceWrites(Protocol):
    """A unit of work that writes reference data, held in memory by every booking."""

    @property
    def directory(self) -> DirectoryRecords: ...

    async def commit(self) -> None: ...
    def reference_changed(self) -> None:
        """Forget the reference data this process holds: call after the commit."""
        ...


class DirectoryUnit(ReferenceWrites, Protocol):
    async def emit(self, payload: EventPayload, *, key: str) -> Any: ...
    @property
    def contact_alerts(self) -> ContactAlerts: ...


class AgreementUnit(ReferenceWrites, Protocol):
    @property
    def agreements(self) -> Agreements: ...


class ContactAlerts(Protocol):
    async def keep(self, alert: ContactAlert) -> None: ...
    async def forget_owner(self, owner_id: str) -> None: ...
    async def forget_route(self, owner_id: str, role: str, channel: str) -> None:
        """Drop the owner's alerts for the route of this role on this channel."""
        ...

    async def of_school(self, school_id: str) -> list[ContactAlert]: ...
    async def dismiss(self, school_id: str, owner_id: str, route: int, channel: str) -> bool:
        """Drop the school's alert for this route and channel; False if there was none."""
        ...


class ContactAlertUnit(Protocol):
    """The consumer's unit of work for notifications' reports (committed by the consumer)."""

    @property
    def contact_alerts(self) -> ContactAlerts: ...


class ContactAlertTransaction(ContactAlertUnit, Transaction, Protocol):
    """A use case's unit of work over the alerts: entered, then committed."""

    async def emit(self, payload: EventPayload, *, key: str) -> Any: ...


class ReportReads(Protocol):
    """What a school's report reads."""

    @property
    def schools(self) -> Schools: ...
    @property
    def students(self) -> Students: ...
    @property
    def appointments(self) -> Appointments: ...
    @property
    def waitlist(self) -> Waitlist: ...
