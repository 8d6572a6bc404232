"""Notifications' unit of work and repositories in memory, for fast tests of the handlers and
use cases: plain values in dicts, the events emitted, the commits counted and the callbacks
run on commit."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

from services.notifications.application.ports import (
    AppointmentCopy,
    Claimed,
    ContactOwner,
    NewMessage,
    Preferences,
    RouteDetails,
    SentMessage,
    StoredRoute,
)
from services.notifications.domain.reminders import PlannedReminder
from shared.events import EventPayload

NOW = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)  # a Tuesday in term


@dataclass
class Reminder:
    appointment_id: str
    revision: int
    kind: str
    due_at: datetime
    status: str = "scheduled"


class FakeAppointmentCopies:
    def __init__(self) -> None:
        self.copies: dict[str, AppointmentCopy] = {}
        self.reminders: list[Reminder] = []

    async def revision_of(self, appointment_id: str) -> int | None:
        copy = self.copies.get(appointment_id)
        return None if copy is None else copy.revision

    async def save(self, copy: AppointmentCopy, *, new: bool) -> None:
        assert (copy.id not in self.copies) == new
        self.copies[copy.id] = copy

    async def replan_reminders(
        self, appointment_id: str, revision: int, plan: Sequence[PlannedReminder], now: datetime
    ) -> None:
        for reminder in self.reminders:
            if reminder.appointment_id == appointment_id and reminder.status == "scheduled":
                reminder.status = "cancelled"
        self.reminders += [Reminder(appointment_id, revision, p.kind, p.due_at) for p in plan]

    async def forget_student(self, student_id: str) -> None:
        gone = {a.id for a in self.copies.values() if a.student_id == student_id}
        self.copies = {k: v for k, v in self.copies.items() if k not in gone}
        self.reminders = [r for r in self.reminders if r.appointment_id not in gone]

    async def upcoming_of(
        self, student_id: str, now: datetime
    ) -> list[tuple[AppointmentCopy, list[PlannedReminder]]]:
        ahead = sorted(
            (
                a
                for a in self.copies.values()
                if a.student_id == student_id and a.status == "confirmed" and a.starts_at > now
            ),
            key=lambda a: (a.starts_at, a.id),
        )
        return [
            (
                a,
                sorted(
                    (
                        PlannedReminder(r.kind, r.due_at)
                        for r in self.reminders
                        if r.appointment_id == a.id and r.status == "scheduled" and r.due_at > now
                    ),
                    key=lambda p: p.due_at,
                ),
            )
            for a in ahead
        ]

    def scheduled(self, appointment_id: str) -> list[tuple[str, int]]:
        return [
            (r.kind, r.revision)
            for r in self.reminders
            if r.appointment_id == appointment_id and r.status == "scheduled"
        ]


class FakeContacts:
    def __init__(self) -> None:
        self.owners: dict[str, ContactOwner] = {}
        self.routes_of: dict[str, list[StoredRoute]] = {}
        self.stopped: dict[str, datetime] = {}
        self.locked: list[str] = []

    def add(
        self,
        owner_id: str,
        *routes: RouteDetails,
        kind: str = "student",
        school_id: str | None = "school-1",
        **choices: Any,
    ) -> None:
        """Contacts as an earlier upsert left them (with the owner's choices)."""
        self.owners[owner_id] = ContactOwner(
            owner_id=owner_id,
            kind=kind,
            school_id=school_id,
            revision=1,
            channel=choices.get("channel"),
            parent_copy=choices.get("parent_copy", True),
            opted_out=choices.get("opted_out", False),
        )
        self.routes_of[owner_id] = [StoredRoute(owner_id, n, r) for n, r in enumerate(routes)]

    async def owner(self, owner_id: str) -> ContactOwner | None:
        return self.owners.get(owner_id)

    async def routes(self, owner_id: str, roles: Collection[str]) -> list[StoredRoute]:
        return [r for r in self.routes_of.get(owner_id, []) if r.details.role in roles]

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
        held = self.owners.get(owner_id)
        choices = (
            {"channel": held.channel, "parent_copy": held.parent_copy, "opted_out": held.opted_out}
            if held is not None
            else {"channel": None, "parent_copy": True, "opted_out": False}
        )
        self.owners[owner_id] = ContactOwner(owner_id, kind, school_id, revision, **choices)
        old = {r.route: r for r in self.routes_of.get(owner_id, [])}
        stored = []
        for n, details in enumerate(routes):
            before = old.get(n)
            same_phone = before is not None and before.details.phone == details.phone
            same_email = before is not None and before.details.email == details.email
            stored.append(
                StoredRoute(
                    owner_id,
                    n,
                    details,
                    sms_undeliverable=before.sms_undeliverable if before and same_phone else None,
                    email_undeliverable=before.email_undeliverable
                    if before and same_email
                    else None,
                )
            )
        self.routes_of[owner_id] = stored

    async def forget(self, owner_id: str) -> None:
        self.owners.pop(owner_id, None)
        self.routes_of.pop(owner_id, None)

    async def preferences(self, owner_id: str) -> Preferences | None:
        owner = self.owners.get(owner_id)
        if owner is None:
            return None
        return Preferences(owner.channel, owner.parent_copy, owner.opted_out)

    async def choose(self, owner_id: str, preferences: Preferences, now: datetime) -> None:
        self.owners[owner_id] = replace(
            self.owners[owner_id],
            channel=preferences.channel,
            parent_copy=preferences.parent_copy,
            opted_out=preferences.opted_out,
        )

    async def lock_owner(self, owner_id: str) -> None:
        self.locked.append(owner_id)

    async def clear_undeliverable(self, owner_id: str, route: int, channel: str) -> None:
        routes = self.routes_of.get(owner_id, [])
        field = "sms_undeliverable" if channel == "sms" else "email_undeliverable"
        for n, stored in enumerate(routes):
            if stored.route == route:
                routes[n] = replace(stored, **{field: None})

    async def mark_undeliverable(
        self, owner_id: str, route: int, channel: str, reason: str
    ) -> StoredRoute | None:
        routes = self.routes_of.get(owner_id, [])
        for n, stored in enumerate(routes):
            if stored.route == route:
                field = "sms_undeliverable" if channel == "sms" else "email_undeliverable"
                routes[n] = replace(stored, **{field: reason})
                return routes[n]
        return None

    async def stop_sms(self, phone: str, now: datetime) -> None:
        self.stopped.setdefault(phone, now)

    async def start_sms(self, phone: str) -> None:
        self.stopped.pop(phone, None)

    async def sms_stopped(self, phone: str) -> bool:
        return phone in self.stopped


@dataclass
class Message:
    item: NewMessage
    status: str = "pending"
    error: str | None = None
    erased: bool = False

    @property
    def kind(self) -> str:
        return self.item.kind


class FakeMessages:
    def __init__(self, contacts: FakeContacts) -> None:
        self._contacts = contacts
        self.rows: dict[tuple[str, str, str, str], Message] = {}

    @staticmethod
    def _identity(item: NewMessage) -> tuple[str, str, str, str]:
        return (item.source, item.kind, f"{item.owner_id}/{item.route}", item.channel)

    async def write(self, items: Sequence[NewMessage], now: datetime) -> None:
        for item in items:
            held = self.rows.get(self._identity(item))
            if held is None or held.status == "cancelled":
                self.rows[self._identity(item)] = Message(item)

    async def cancel_pending(
        self, now: datetime, *, source: str | None = None, appointment_id: str | None = None
    ) -> None:
        for row in self.rows.values():
            about = (
                row.item.source == source
                if source is not None
                else row.item.appointment_id == appointment_id
            )
            if about and row.status == "pending":
                row.status = "cancelled"

    async def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[Claimed]:
        raise NotImplementedError("the dispatcher is tested on a database")

    async def finish(self, item: Claimed, now: datetime, **values: Any) -> bool:
        raise NotImplementedError("the dispatcher is tested on a database")

    async def handed_over(
        self, item: Claimed, now: datetime, *, provider_id: str, body: str
    ) -> bool:
        raise NotImplementedError("the dispatcher is tested on a database")

    async def suppress_sms_to(self, phone: str, now: datetime) -> int:
        routes = {
            (r.owner_id, r.route)
            for stored in self._contacts.routes_of.values()
            for r in stored
            if r.details.phone == phone
        }
        suppressed = 0
        for row in self.rows.values():
            to = (row.item.owner_id, row.item.route)
            if row.item.channel == "sms" and row.status == "pending" and to in routes:
                row.status, row.error = "suppressed", "opted-out"
                suppressed += 1
        return suppressed

    async def sent(self, *, message_id: str | None, provider_id: str) -> SentMessage | None:
        raise NotImplementedError("status callbacks are tested on a database")

    async def record_provider_status(
        self, message_id: str, now: datetime, *, provider_status: str, **values: Any
    ) -> None:
        raise NotImplementedError("status callbacks are tested on a database")

    async def erase_student(self, student_id: str, now: datetime) -> None:
        for row in self.rows.values():
            if row.item.student_id == student_id:
                if row.status == "pending":
                    row.status, row.error = "cancelled", "erased"
                row.erased = True
                row.item = replace(row.item, owner_id="", student_id=None, context={})

    async def count_pending(self) -> int:
        return sum(1 for row in self.rows.values() if row.status == "pending")

    def of(self, *, status: str | None = "pending", **about: Any) -> list[Message]:
        """The messages with these fields (of `NewMessage`), in the order written."""
        return [
            row
            for row in self.rows.values()
            if (status is None or row.status == status)
            and all(getattr(row.item, k) == v for k, v in about.items())
        ]


class FakeUnitOfWork:
    """Both the consumer's unit (handed to event handlers, committed by the test as the
    consumer would) and a use case's (entered, then committed)."""

    def __init__(self, now: datetime = NOW) -> None:
        self.clock = now
        self.appointments = FakeAppointmentCopies()
        self.contacts = FakeContacts()
        self.messages = FakeMessages(self.contacts)
        self.events: list[tuple[EventPayload, str]] = []
        self.commits = 0
        self._after_commit: list[Callable[[], None]] = []

    def now(self) -> datetime:
        return self.clock

    async def emit(self, payload: EventPayload, *, key: str) -> None:
        self.events.append((payload, key))

    def after_commit(self, callback: Callable[[], None]) -> None:
        if callback not in self._after_commit:
            self._after_commit.append(callback)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._after_commit.clear()  # not committed: rolled back

    async def commit(self) -> None:
        self.commits += 1
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()


def student_route(
    phone: str | None = "+447700900123",
    email: str | None = "pupil@school.example",
    *,
    role: str = "student",
    preferred: tuple[str, ...] = ("sms",),
) -> RouteDetails:
    return RouteDetails(
        role=role,
        phone=phone,
        email=email,
        sms_consent=phone is not None,
        email_consent=email is not None,
        preferred=preferred,
    )
