"""What notifications' use cases and event handlers need from storage.

The adapters implement these over the database (`adapters/uow.py`, `adapters/contact_store.py`,
`adapters/message_store.py`, `adapters/appointment_copies.py`); the unit tests, in memory. A
use case sees plain values only, never a table or a statement.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from services.notifications.domain.reminders import PlannedReminder
from shared.events import EventPayload
from shared.ports import Transaction

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class AppointmentCopy:
    """Notifications' copy of a booking appointment, at the revision it was written from."""

    id: str
    revision: int
    school_id: str
    student_id: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    location: str
    status: str


@dataclass(frozen=True)
class ContactOwner:
    """Whom contacts belong to, and what they chose for themselves."""

    owner_id: str
    kind: str
    school_id: str | None
    revision: int
    channel: str | None
    parent_copy: bool
    opted_out: bool


@dataclass(frozen=True)
class Preferences:
    """A student's own choices: the channel (None: as the school recorded), copies to
    parents, and nothing at all."""

    channel: str | None
    parent_copy: bool
    opted_out: bool


@dataclass(frozen=True)
class RouteDetails:
    """One contact route as the directory gives it."""

    role: str
    phone: str | None
    email: str | None
    sms_consent: bool
    email_consent: bool
    preferred: tuple[str, ...]


@dataclass(frozen=True)
class StoredRoute:
    """A contact route as kept, numbered within its owner, with any failure marks."""

    owner_id: str
    route: int
    details: RouteDetails
    sms_undeliverable: str | None = None
    email_undeliverable: str | None = None


@dataclass(frozen=True)
class NewMessage:
    source: str
    kind: str
    owner_id: str
    route: int
    channel: str
    variant: str
    due_at: datetime
    expires_at: datetime
    context: dict[str, Any]
    school_id: str | None = None
    student_id: str | None = None
    appointment_id: str | None = None


@dataclass(frozen=True)
class Claimed:
    """A claimed message with what sending it needs (the address is read, never stored)."""

    id: str
    claim: str
    kind: str
    channel: str
    variant: str
    context: dict[str, Any]
    due_at: datetime
    expires_at: datetime
    attempts: int
    owner_id: str | None
    owner_kind: str | None
    school_id: str | None
    route: int | None
    role: str | None
    phone: str | None
    email: str | None
    sms_consent: bool
    email_consent: bool
    undeliverable: str | None
    opted_out: bool
    sms_stopped: bool


@dataclass(frozen=True)
class SentMessage:
    """A message a status callback is about, as stored."""

    id: str
    kind: str
    channel: str
    school_id: str | None
    owner_id: str | None
    route: int | None
    provider_status: str | None
    status: str


class AppointmentCopies(Protocol):
    async def revision_of(self, appointment_id: str) -> int | None:
        """The revision of the copy held, or None for none."""
        ...

    async def save(self, copy: AppointmentCopy, *, new: bool) -> None: ...
    async def replan_reminders(
        self, appointment_id: str, revision: int, plan: Sequence[PlannedReminder], now: datetime
    ) -> None:
        """Cancel the reminders still scheduled for the appointment; schedule `plan`."""
        ...

    async def forget_student(self, student_id: str) -> None:
        """Delete the student's appointments and their reminders."""
        ...

    async def upcoming_of(
        self, student_id: str, now: datetime
    ) -> list[tuple[AppointmentCopy, list[PlannedReminder]]]:
        """The student's confirmed appointments still to start, by start, each with the
        reminders still scheduled for it and not yet due."""
        ...


class Contacts(Protocol):
    async def lock_owner(self, owner_id: str) -> None:
        """Hold the owner until the transaction ends, so that two handlers about one person
        (their appointments, their contact details) take turns and each sees the other's
        writes."""
        ...

    async def clear_undeliverable(self, owner_id: str, route: int, channel: str) -> None:
        """The school has checked the route: try it again."""
        ...

    async def owner(self, owner_id: str) -> ContactOwner | None: ...
    async def routes(self, owner_id: str, roles: Collection[str]) -> list[StoredRoute]:
        """The owner's routes of these roles, in route order."""
        ...

    async def replace(
        self,
        owner_id: str,
        *,
        kind: str,
        school_id: str | None,
        revision: int,
        routes: Sequence[RouteDetails],
        now: datetime,
    ) -> None:
        """Store the owner with exactly these routes (numbered in order), keeping a failure
        mark only where the failed address is unchanged, and the owner's own choices."""
        ...

    async def forget(self, owner_id: str) -> None:
        """Delete the owner and their routes."""
        ...

    async def preferences(self, owner_id: str) -> Preferences | None: ...
    async def choose(self, owner_id: str, preferences: Preferences, now: datetime) -> None: ...
    async def mark_undeliverable(
        self, owner_id: str, route: int, channel: str, reason: str
    ) -> StoredRoute | None:
        """Mark the route as failing on `channel`; the route, None if there is none."""
        ...

    async def stop_sms(self, phone: str, now: datetime) -> None:
        """Remember that `phone` replied STOP (once)."""
        ...

    async def start_sms(self, phone: str) -> None: ...
    async def sms_stopped(self, phone: str) -> bool: ...


class Messages(Protocol):
    async def write(self, items: Sequence[NewMessage], now: datetime) -> None:
        """Insert each message unless its identity exists; a cancelled one comes back to
        life with the new time and context."""
        ...

    async def cancel_pending(
        self, now: datetime, *, source: str | None = None, appointment_id: str | None = None
    ) -> None:
        """Cancel the pending messages of the source, or about the appointment."""
        ...

    async def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[Claimed]: ...
    async def finish(self, item: Claimed, now: datetime, **values: Any) -> bool:
        """Record an outcome (status, error, due_at) if the claim is still this one's."""
        ...

    async def handed_over(
        self, item: Claimed, now: datetime, *, provider_id: str, body: str
    ) -> bool:
        """Record the hand-over, keeping what a status callback that overtook it said."""
        ...

    async def suppress_sms_to(self, phone: str, now: datetime) -> int:
        """Suppress the pending SMS to every route with `phone`; the number suppressed."""
        ...

    async def sent(self, *, message_id: str | None, provider_id: str) -> SentMessage | None: ...
    async def record_provider_status(
        self, message_id: str, now: datetime, *, provider_status: str, **values: Any
    ) -> None: ...
    async def erase_student(self, student_id: str, now: datetime) -> None:
        """Cancel the student's pending messages and strip every message of content and
        address, keeping the rows for the statistics."""
        ...

    async def count_pending(self) -> int: ...


class NotificationsReads(Protocol):
    """The repositories over a read session: nothing to commit."""

    @property
    def contacts(self) -> Contacts: ...
    @property
    def messages(self) -> Messages: ...


class NotificationsEvents(NotificationsReads, Protocol):
    """What an event handler gets: the repositories in the consumer's transaction, which
    the consumer commits with its inbox row."""

    @property
    def appointments(self) -> AppointmentCopies: ...

    def now(self) -> datetime: ...
    async def emit(self, payload: EventPayload, *, key: str) -> Any: ...
    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the transaction has committed."""
        ...


class NotificationsUnit(NotificationsEvents, Transaction, Protocol):
    """One business transaction; enter it (`async with uow:`), then `commit`."""


class Storage(Protocol):
    """Where units of work and reads come from (the composition root builds it)."""

    def unit(self) -> NotificationsUnit: ...
    def reads(self) -> AbstractAsyncContextManager[NotificationsReads]: ...
