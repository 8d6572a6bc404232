"""Contacts from `directory.events` (and employers from `placements.events`), and what
people chose: a student's channel, parent copies and opt-out, and SMS STOP/START replies.

An owner's contacts are replaced whole by each upsert carrying a newer `revision`; an older
or equal one changes nothing. Events from producers that do not number their revisions yet
carry none (0): those are applied in arrival order until a numbered one has been seen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.adapters.orm import (
    appointments,
    contact_owners,
    contacts,
    messages,
    reminders,
    sms_opt_outs,
)
from shared.events import Envelope
from shared.events.directory import (
    AdviserUpserted,
    ContactRoute,
    StaffUpserted,
    StudentErased,
    StudentUpserted,
)
from shared.events.placements import EmployerUpserted

Clock = Callable[[], datetime]
PENDING = ("pending",)


def _stale(incoming: int, stored: int | None) -> bool:
    if stored is None:
        return False
    return incoming < stored or (incoming == stored and incoming > 0)


async def replace_contacts(
    session: AsyncSession,
    *,
    owner_id: str,
    kind: str,
    school_id: str | None,
    revision: int,
    routes: Sequence[dict[str, Any]],
    now: datetime,
) -> bool:
    """Store an owner's routes unless a newer revision is held; True when stored."""
    stored = await session.scalar(
        sa.select(contact_owners.c.revision).where(contact_owners.c.owner_id == owner_id)
    )
    if _stale(revision, stored):
        return False
    values = {"kind": kind, "school_id": school_id, "revision": revision, "updated_at": now}
    if stored is None:
        await session.execute(
            contact_owners.insert().values(
                owner_id=owner_id, channel=None, parent_copy=True, opted_out=False, **values
            )
        )
    else:
        await session.execute(
            contact_owners.update().where(contact_owners.c.owner_id == owner_id).values(**values)
        )
    old = {
        row.route: row
        for row in await session.execute(sa.select(contacts).where(contacts.c.owner_id == owner_id))
    }
    await session.execute(contacts.delete().where(contacts.c.owner_id == owner_id))
    rows = []
    for n, route in enumerate(routes):
        before = old.get(n)
        # A failure mark stays with the address that failed, not with the position.
        rows.append(
            {
                "owner_id": owner_id,
                "route": n,
                **route,
                "sms_undeliverable": before.sms_undeliverable
                if before is not None and before.phone == route["phone"]
                else None,
                "email_undeliverable": before.email_undeliverable
                if before is not None and before.email == route["email"]
                else None,
            }
        )
    if rows:
        await session.execute(contacts.insert(), rows)
    return True


def _routes(items: Sequence[ContactRoute]) -> list[dict[str, Any]]:
    return [
        {
            "role": str(item.role),
            "phone": item.phone,
            "email": str(item.email) if item.email else None,
            "sms_consent": item.sms_consent,
            "email_consent": item.email_consent,
            "preferred": ",".join(str(c) for c in item.preferred),
        }
        for item in items
    ]


def _revision(event: object) -> int:
    return int(getattr(event, "revision", 0) or 0)


class ContactBook:
    """Event handlers that keep the contacts read model."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def student(self, session: AsyncSession, _e: Envelope, event: StudentUpserted) -> None:
        await replace_contacts(
            session,
            owner_id=event.student_id,
            kind="student",
            school_id=event.school_id,
            revision=_revision(event),
            routes=_routes(event.contacts),
            now=self._clock(),
        )

    async def staff(self, session: AsyncSession, _e: Envelope, event: StaffUpserted) -> None:
        await replace_contacts(
            session,
            owner_id=event.staff_id,
            kind="staff",
            school_id=event.school_ids[0] if event.school_ids else None,
            revision=_revision(event),
            routes=_routes(event.contacts),
            now=self._clock(),
        )

    async def adviser(self, session: AsyncSession, _e: Envelope, event: AdviserUpserted) -> None:
        await replace_contacts(
            session,
            owner_id=event.adviser_id,
            kind="adviser",
            school_id=None,
            revision=_revision(event),
            routes=_routes(event.contacts),
            now=self._clock(),
        )

    async def employer(self, session: AsyncSession, _e: Envelope, event: EmployerUpserted) -> None:
        route = {
            "role": "employer",
            "phone": event.contact_phone,
            "email": str(event.contact_email) if event.contact_email else None,
            # An employer's published contact point is for exactly this business contact.
            "sms_consent": False,
            "email_consent": event.contact_email is not None,
            "preferred": "email",
        }
        await replace_contacts(
            session,
            owner_id=event.employer_id,
            kind="employer",
            school_id=None,
            revision=_revision(event),
            routes=[route],
            now=self._clock(),
        )

    async def erased(self, session: AsyncSession, _e: Envelope, event: StudentErased) -> None:
        await erase_student(session, event.student_id, self._clock())


async def erase_student(session: AsyncSession, student_id: str, now: datetime) -> None:
    """Remove the student's contacts, appointments and reminders, and every message's content
    and address.

    Message rows stay for the statistics (kind, channel, status, times) with nothing that
    could identify the student or say what was sent.
    """
    await session.execute(contacts.delete().where(contacts.c.owner_id == student_id))
    await session.execute(contact_owners.delete().where(contact_owners.c.owner_id == student_id))
    owned = sa.select(appointments.c.id).where(appointments.c.student_id == student_id)
    await session.execute(reminders.delete().where(reminders.c.appointment_id.in_(owned)))
    await session.execute(appointments.delete().where(appointments.c.student_id == student_id))
    mine = messages.c.student_id == student_id
    await session.execute(
        messages.update()
        .where(mine, messages.c.status.in_(PENDING))
        .values(status="cancelled", error="erased", updated_at=now)
    )
    await session.execute(
        messages.update()
        .where(mine)
        .values(
            recipient=sa.literal("erased:") + messages.c.id,
            owner_id=None,
            route=None,
            student_id=None,
            context=None,
            body=None,
            updated_at=now,
        )
    )


STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE", "STOP ALL"}
)
START_WORDS = frozenset({"START", "YES", "UNSTOP", "OPTIN"})
HELP_WORDS = frozenset({"HELP", "INFO"})


def keyword(body: str) -> str | None:
    """What an inbound SMS asks for: `stop`, `start`, `help`, or None for anything else."""
    word = " ".join(body.strip().upper().split())
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    if word in HELP_WORDS:
        return "help"
    return None


async def opt_out_sms(session: AsyncSession, phone: str, now: datetime) -> int:
    """STOP: no later SMS to this number, including any already due; returns those withdrawn."""
    exists = await session.scalar(
        sa.select(sms_opt_outs.c.phone).where(sms_opt_outs.c.phone == phone)
    )
    if exists is None:
        await session.execute(sms_opt_outs.insert().values(phone=phone, opted_out_at=now))
    routes = sa.select(contacts.c.owner_id, contacts.c.route).where(contacts.c.phone == phone)
    result = await session.execute(
        messages.update()
        .where(
            messages.c.channel == "sms",
            messages.c.status.in_(PENDING),
            sa.tuple_(messages.c.owner_id, messages.c.route).in_(routes),
        )
        .values(status="suppressed", error="opted-out", updated_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def opt_in_sms(session: AsyncSession, phone: str) -> None:
    await session.execute(sms_opt_outs.delete().where(sms_opt_outs.c.phone == phone))
