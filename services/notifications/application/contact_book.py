"""Contacts from `directory.events` (and employers from `placements.events`): the read model
notifications sends by, and the erasure of a student from it.

An owner's contacts are replaced whole by each upsert carrying a newer `revision`; an older
or equal one changes nothing. Events from producers that do not number their revisions yet
carry none (0): those are applied in arrival order until a numbered one has been seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Protocol

from services.notifications.application.ports import NotificationsEvents, RouteDetails
from shared.events import Event
from shared.events.directory import (
    AdviserUpserted,
    ContactChecked,
    ContactRole,
    ContactRoute,
    StaffUpserted,
    StudentErased,
    StudentUpserted,
)
from shared.events.placements import EmployerUpserted

ROLES = tuple(role.value for role in ContactRole)


def stale(incoming: int, stored: int | None) -> bool:
    """Whether a copy of revision `incoming` is older than (or the same as) the one held."""
    if stored is None:
        return False
    return incoming < stored or (incoming == stored and incoming > 0)


class Stored(Enum):
    STALE = "stale"
    """A newer revision is held: nothing changed."""
    FIRST = "first"
    """The owner's first contact details."""
    REPLACED = "replaced"


async def replace_contacts(
    uow: NotificationsEvents,
    *,
    owner_id: str,
    kind: str,
    school_id: str | None,
    revision: int,
    routes: Sequence[RouteDetails],
) -> Stored:
    """Store an owner's routes unless a newer revision is held. FIRST when the owner had no
    route before (unknown, or known with no details yet)."""
    held = await uow.contacts.owner(owner_id)
    if stale(revision, held.revision if held is not None else None):
        return Stored.STALE
    had_routes = held is not None and bool(await uow.contacts.routes(owner_id, ROLES))
    await uow.contacts.replace(
        owner_id, kind=kind, school_id=school_id, revision=revision, routes=routes, now=uow.now()
    )
    return Stored.REPLACED if had_routes else Stored.FIRST


def _routes(items: Sequence[ContactRoute]) -> list[RouteDetails]:
    return [
        RouteDetails(
            role=str(item.role),
            phone=item.phone,
            email=str(item.email) if item.email else None,
            sms_consent=item.sms_consent,
            email_consent=item.email_consent,
            preferred=tuple(str(c) for c in item.preferred),
        )
        for item in items
    ]


def _revision(event: object) -> int:
    return int(getattr(event, "revision", 0) or 0)


class CatchUp(Protocol):
    async def __call__(self, student_id: str, uow: NotificationsEvents) -> None: ...


class ContactBook:
    """Event handlers that keep the contacts read model.

    A student's appointments may reach notifications before their contact details do (the
    two come on different topics); `catch_up` then writes the messages those appointments
    still need once the first details arrive."""

    def __init__(self, catch_up: CatchUp | None = None) -> None:
        self._catch_up = catch_up

    async def student(self, upserted: Event[StudentUpserted], uow: NotificationsEvents) -> None:
        event = upserted.payload
        await uow.contacts.lock_owner(event.student_id)  # in turn with their appointments
        stored = await replace_contacts(
            uow,
            owner_id=event.student_id,
            kind="student",
            school_id=event.school_id,
            revision=_revision(event),
            routes=_routes(event.contacts),
        )
        if stored is Stored.FIRST and event.contacts and self._catch_up is not None:
            await self._catch_up(event.student_id, uow)

    async def staff(self, upserted: Event[StaffUpserted], uow: NotificationsEvents) -> None:
        event = upserted.payload
        await replace_contacts(
            uow,
            owner_id=event.staff_id,
            kind="staff",
            school_id=event.school_ids[0] if event.school_ids else None,
            revision=_revision(event),
            routes=_routes(event.contacts),
        )

    async def adviser(self, upserted: Event[AdviserUpserted], uow: NotificationsEvents) -> None:
        event = upserted.payload
        await replace_contacts(
            uow,
            owner_id=event.adviser_id,
            kind="adviser",
            school_id=None,
            revision=_revision(event),
            routes=_routes(event.contacts),
        )

    async def employer(self, upserted: Event[EmployerUpserted], uow: NotificationsEvents) -> None:
        event = upserted.payload
        route = RouteDetails(
            role="employer",
            phone=event.contact_phone,
            email=str(event.contact_email) if event.contact_email else None,
            # An employer's published contact point is for exactly this business contact.
            sms_consent=False,
            email_consent=event.contact_email is not None,
            preferred=("email",),
        )
        await replace_contacts(
            uow,
            owner_id=event.employer_id,
            kind="employer",
            school_id=None,
            revision=_revision(event),
            routes=[route],
        )

    async def checked(self, checked: Event[ContactChecked], uow: NotificationsEvents) -> None:
        """The school checked a route reported undeliverable: it is tried again."""
        event = checked.payload
        await uow.contacts.clear_undeliverable(event.owner_id, event.route, str(event.channel))

    async def erased(self, erased: Event[StudentErased], uow: NotificationsEvents) -> None:
        await erase_student(erased.payload.student_id, uow)


async def erase_student(student_id: str, uow: NotificationsEvents) -> None:
    """Remove the student's contacts, appointments and reminders, and every message's content
    and address.

    Message rows stay for the statistics (kind, channel, status, times) with nothing that
    could identify the student or say what was sent.
    """
    await uow.contacts.forget(student_id)
    await uow.appointments.forget_student(student_id)
    await uow.messages.erase_student(student_id, uow.now())
