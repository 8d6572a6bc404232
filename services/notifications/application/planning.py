"""Event handlers that turn what happened into message rows (and nothing else).

Each runs inside the consumer's inbox transaction and only writes rows: who is told, by
which channel, when, and until when it is worth saying. Sending is the dispatcher's job.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.adapters import message_store
from services.notifications.adapters.message_store import NewMessage
from services.notifications.adapters.orm import contact_owners, contacts, messages
from services.notifications.domain import messages as policy
from services.notifications.domain.messages import Kind
from services.notifications.domain.reminders import ReminderPolicy
from shared.events import Envelope
from shared.events.booking import DropInTurn, NoShowChase, WaitlistOfferEnded, WaitlistOfferMade
from shared.events.placements import (
    AllocationPublished,
    AllocationWithdrawn,
    EmployerAllocationsPublished,
)

Clock = Callable[[], datetime]
LONDON = "Europe/London"


@dataclass(frozen=True)
class Audience:
    owner_id: str
    roles: tuple[str, ...] = ("student",)


class Planner:
    """Writes the rows for one message to each person an event concerns."""

    def __init__(self, clock: Clock, quiet: ReminderPolicy, woken: Callable[[], None]) -> None:
        self.clock = clock
        self.quiet = quiet
        self._woken = woken

    async def plan(
        self,
        session: AsyncSession,
        *,
        kind: Kind,
        source: str,
        audience: Audience,
        due_at: datetime | None,
        expires_at: datetime,
        context: dict[str, Any],
        student_id: str | None = None,
        appointment_id: str | None = None,
    ) -> int:
        """Rows for `kind` to the audience's routes; none when too late or nobody reachable."""
        if due_at is None or due_at >= expires_at:
            return 0
        rule = policy.RULES[kind]
        owner = (
            await session.execute(
                sa.select(contact_owners).where(contact_owners.c.owner_id == audience.owner_id)
            )
        ).first()
        if owner is None or owner.opted_out:
            return 0
        roles = set(audience.roles)
        if rule.parent_copy and owner.parent_copy and "student" in roles:
            roles.add("parent")
        routes = await session.execute(
            sa.select(contacts)
            .where(contacts.c.owner_id == audience.owner_id, contacts.c.role.in_(roles))
            .order_by(contacts.c.route)
        )
        items = []
        for row in routes:
            route = policy.Route(
                role=row.role,
                phone=row.phone,
                email=row.email,
                sms_consent=row.sms_consent,
                email_consent=row.email_consent,
                preferred=tuple(p for p in row.preferred.split(",") if p),
                sms_undeliverable=row.sms_undeliverable is not None,
                email_undeliverable=row.email_undeliverable is not None,
            )
            chosen = owner.channel if row.role == "student" else None
            channel = policy.choose_channel(rule, route, chosen)
            if channel is None:
                continue
            items.append(
                NewMessage(
                    source=source,
                    kind=kind,
                    owner_id=audience.owner_id,
                    route=row.route,
                    channel=channel,
                    variant=policy.assign_variant(rule, f"{source}/{kind}/{audience.owner_id}"),
                    due_at=due_at,
                    expires_at=expires_at,
                    context=context,
                    school_id=owner.school_id,
                    student_id=student_id,
                    appointment_id=appointment_id,
                )
            )
        now = self.clock()
        await message_store.write(session, items, now)
        if items and due_at <= now:
            self._wake_after_commit(session)
        return len(items)

    def at_once(self, expires_at: datetime, zone: str) -> datetime | None:
        return policy.at_once(self.clock(), expires_at, ZoneInfo(zone), self.quiet)

    def _wake_after_commit(self, session: AsyncSession) -> None:
        """Messages due now: wake the dispatcher once the transaction has committed."""
        sync = session.sync_session
        if not sa.event.contains(sync, "after_commit", self._on_commit):
            sa.event.listen(sync, "after_commit", self._on_commit, once=True)

    def _on_commit(self, _session: Any) -> None:
        self._woken()


async def cancel_source(session: AsyncSession, source: str, now: datetime) -> None:
    await message_store.cancel(session, messages.c.source == source, now)


class BookingMessages:
    """Waitlist offers, drop-in calls and no-show chases from `booking.events`."""

    def __init__(self, planner: Planner) -> None:
        self.p = planner

    async def offer_made(self, s: AsyncSession, _e: Envelope, event: WaitlistOfferMade) -> None:
        await self.p.plan(
            s,
            kind=Kind.WAITLIST_OFFER,
            source=f"offer:{event.offer_id}",
            audience=Audience(event.student_id),
            due_at=self.p.at_once(event.expires_at, event.time_zone),
            expires_at=event.expires_at,
            context={
                "starts_at": event.starts_at.isoformat(),
                "expires_at": event.expires_at.isoformat(),
                "location": event.location,
                "time_zone": event.time_zone,
            },
            student_id=event.student_id,
        )

    async def offer_ended(self, s: AsyncSession, _e: Envelope, event: WaitlistOfferEnded) -> None:
        await cancel_source(s, f"offer:{event.offer_id}", self.p.clock())

    async def dropin_turn(self, s: AsyncSession, envelope: Envelope, event: DropInTurn) -> None:
        expires = envelope.occurred_at + policy.DROPIN_TURN_VALID
        await self.p.plan(
            s,
            kind=Kind.DROPIN_TURN,
            source=f"dropin:{event.session_id}:{envelope.id}",
            audience=Audience(event.student_id),
            due_at=self.p.at_once(expires, LONDON),
            expires_at=expires,
            context={"location": event.location},
            student_id=event.student_id,
        )

    async def no_show(self, s: AsyncSession, envelope: Envelope, event: NoShowChase) -> None:
        expires = envelope.occurred_at + policy.NO_SHOW_VALID
        context = {
            "starts_at": event.starts_at.isoformat(),
            "reference": event.appointment_id[:8],
        }
        source = f"no-show:{event.appointment_id}"
        await self.p.plan(
            s,
            kind=Kind.NO_SHOW_CHASE,
            source=source,
            audience=Audience(event.student_id),
            due_at=self.p.at_once(expires, LONDON),
            expires_at=expires,
            context=context,
            student_id=event.student_id,
            appointment_id=event.appointment_id,
        )
        if event.coordinator_id:
            await self.p.plan(
                s,
                kind=Kind.NO_SHOW_COORDINATOR,
                source=source,
                audience=Audience(event.coordinator_id, roles=("staff",)),
                due_at=self.p.at_once(expires, LONDON),
                expires_at=expires,
                context=context,
                appointment_id=event.appointment_id,
            )


class PlacementMessages:
    """Published placements to students (and parents), lists to employers, and a reminder
    on the Friday before a placement week."""

    def __init__(self, planner: Planner) -> None:
        self.p = planner

    async def published(self, s: AsyncSession, _e: Envelope, event: AllocationPublished) -> None:
        zone = ZoneInfo(LONDON)
        starts = datetime.combine(event.week_starts, time(9, 0), zone)
        source = f"placement:{event.round_id}:{event.student_id}:{event.placement_id}"
        context = {"week_starts": event.week_starts.isoformat(), "sector": event.sector}
        friday = policy.friday_before(event.week_starts, zone)
        for kind, due in (
            (Kind.PLACEMENT_PUBLISHED, self.p.at_once(starts, LONDON)),
            (Kind.PLACEMENT_STARTING, friday if friday >= self.p.clock() else None),
        ):
            await self.p.plan(
                s,
                kind=kind,
                source=source,
                audience=Audience(event.student_id),
                due_at=due,
                expires_at=starts,
                context=context,
                student_id=event.student_id,
            )

    async def withdrawn(self, s: AsyncSession, _e: Envelope, event: AllocationWithdrawn) -> None:
        source = f"placement:{event.round_id}:{event.student_id}:{event.placement_id}"
        await cancel_source(s, source, self.p.clock())

    async def employer_list(
        self, s: AsyncSession, _e: Envelope, event: EmployerAllocationsPublished
    ) -> None:
        places = [
            {"week_starts": p.week_starts.isoformat(), "students": p.students}
            for p in sorted(event.places, key=lambda p: (p.week_starts, p.placement_id))
        ]
        digest = hashlib.sha256(repr(places).encode()).hexdigest()[:16]
        last_week = max((p.week_starts for p in event.places), default=None)
        if last_week is None:
            return
        expires = datetime.combine(last_week, time(9, 0), ZoneInfo(LONDON))
        await self.p.plan(
            s,
            kind=Kind.EMPLOYER_LIST,
            source=f"employer-list:{event.round_id}:{event.employer_id}:{digest}",
            audience=Audience(event.employer_id, roles=("employer",)),
            due_at=self.p.at_once(expires, LONDON),
            expires_at=expires,
            context={"places": places},
        )
