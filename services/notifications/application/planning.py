"""Event handlers that turn what happened into message rows (and nothing else).

Each runs inside the consumer's inbox transaction, as `handler(event, uow)`, and only writes
rows through the unit of work: who is told, by which channel, when, and until when it is
worth saying. Sending is the dispatcher's job.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from services.notifications.application.ports import NewMessage, NotificationsEvents
from services.notifications.domain import messages as policy
from services.notifications.domain.messages import Kind
from services.notifications.domain.reminders import ReminderPolicy
from shared.events import Event
from shared.events.booking import (
    AdviserClashDetected,
    DropInTurn,
    NoShowChase,
    WaitlistOfferEnded,
    WaitlistOfferMade,
)
from shared.events.placements import (
    AllocationPublished,
    AllocationWithdrawn,
    EmployerAllocationsPublished,
)

LONDON = "Europe/London"


@dataclass(frozen=True)
class Audience:
    owner_id: str
    roles: tuple[str, ...] = ("student",)


class Planner:
    """Writes the rows for one message to each person an event concerns."""

    def __init__(self, quiet: ReminderPolicy, woken: Callable[[], None]) -> None:
        self.quiet = quiet
        self._woken = woken

    async def plan(
        self,
        uow: NotificationsEvents,
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
        owner = await uow.contacts.owner(audience.owner_id)
        if owner is None or owner.opted_out:
            return 0
        roles = set(audience.roles)
        if rule.parent_copy and owner.parent_copy and "student" in roles:
            roles.add("parent")
        items = []
        for stored in await uow.contacts.routes(audience.owner_id, roles):
            details = stored.details
            route = policy.Route(
                role=details.role,
                phone=details.phone,
                email=details.email,
                sms_consent=details.sms_consent,
                email_consent=details.email_consent,
                preferred=details.preferred,
                sms_undeliverable=stored.sms_undeliverable is not None,
                email_undeliverable=stored.email_undeliverable is not None,
            )
            chosen = owner.channel if details.role == "student" else None
            channel = policy.choose_channel(rule, route, chosen)
            if channel is None:
                continue
            items.append(
                NewMessage(
                    source=source,
                    kind=kind,
                    owner_id=audience.owner_id,
                    route=stored.route,
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
        now = uow.now()
        await uow.messages.write(items, now)
        if items and due_at <= now:
            uow.after_commit(self._woken)  # due now: wake the dispatcher once committed
        return len(items)

    def at_once(self, now: datetime, expires_at: datetime, zone: str) -> datetime | None:
        return policy.at_once(now, expires_at, ZoneInfo(zone), self.quiet)


class BookingMessages:
    """Waitlist offers, drop-in calls, no-show chases and a PA's calendar clashes from
    `booking.events`."""

    def __init__(self, planner: Planner) -> None:
        self.p = planner

    async def offer_made(self, made: Event[WaitlistOfferMade], uow: NotificationsEvents) -> None:
        event = made.payload
        await self.p.plan(
            uow,
            kind=Kind.WAITLIST_OFFER,
            source=f"offer:{event.offer_id}",
            audience=Audience(event.student_id),
            due_at=self.p.at_once(uow.now(), event.expires_at, event.time_zone),
            expires_at=event.expires_at,
            context={
                "starts_at": event.starts_at.isoformat(),
                "expires_at": event.expires_at.isoformat(),
                "location": event.location,
                "time_zone": event.time_zone,
            },
            student_id=event.student_id,
        )

    async def offer_ended(self, ended: Event[WaitlistOfferEnded], uow: NotificationsEvents) -> None:
        await uow.messages.cancel_pending(uow.now(), source=f"offer:{ended.payload.offer_id}")

    async def dropin_turn(self, turn: Event[DropInTurn], uow: NotificationsEvents) -> None:
        event, envelope = turn.payload, turn.envelope
        expires = envelope.occurred_at + policy.DROPIN_TURN_VALID
        await self.p.plan(
            uow,
            kind=Kind.DROPIN_TURN,
            source=f"dropin:{event.session_id}:{envelope.id}",
            audience=Audience(event.student_id),
            due_at=self.p.at_once(uow.now(), expires, LONDON),
            expires_at=expires,
            context={"location": event.location},
            student_id=event.student_id,
        )

    async def no_show(self, chase: Event[NoShowChase], uow: NotificationsEvents) -> None:
        event = chase.payload
        expires = chase.envelope.occurred_at + policy.NO_SHOW_VALID
        due = self.p.at_once(uow.now(), expires, LONDON)
        context = {
            "starts_at": event.starts_at.isoformat(),
            "reference": event.appointment_id[:8],
        }
        source = f"no-show:{event.appointment_id}"
        await self.p.plan(
            uow,
            kind=Kind.NO_SHOW_CHASE,
            source=source,
            audience=Audience(event.student_id),
            due_at=due,
            expires_at=expires,
            context=context,
            student_id=event.student_id,
            appointment_id=event.appointment_id,
        )
        if event.coordinator_id:
            await self.p.plan(
                uow,
                kind=Kind.NO_SHOW_COORDINATOR,
                source=source,
                audience=Audience(event.coordinator_id, roles=("staff",)),
                due_at=due,
                expires_at=expires,
                context=context,
                appointment_id=event.appointment_id,
            )

    async def clash(self, found: Event[AdviserClashDetected], uow: NotificationsEvents) -> None:
        """The PA hears once per revision of the appointment, while it is still to come; the
        message names neither the student nor anything of the PA's own calendar."""
        event = found.payload
        held = await uow.appointments.revision_of(event.appointment_id)
        if held is not None and held > event.revision:
            return  # moved or cancelled since: the clash was about a time no longer booked
        await self.p.plan(
            uow,
            kind=Kind.ADVISER_CLASH,
            source=f"clash:{event.appointment_id}:r{event.revision}",
            audience=Audience(event.adviser_id, roles=("adviser",)),
            due_at=self.p.at_once(uow.now(), event.starts_at, LONDON),
            expires_at=event.starts_at,
            context={
                "starts_at": event.starts_at.isoformat(),
                "reference": event.appointment_id[:8],
            },
            appointment_id=event.appointment_id,
        )


class PlacementMessages:
    """Published placements to students (and parents), lists to employers, and a reminder
    on the Friday before a placement week."""

    def __init__(self, planner: Planner) -> None:
        self.p = planner

    async def published(
        self, published: Event[AllocationPublished], uow: NotificationsEvents
    ) -> None:
        event, now = published.payload, uow.now()
        zone = ZoneInfo(LONDON)
        starts = datetime.combine(event.week_starts, time(9, 0), zone)
        source = f"placement:{event.round_id}:{event.student_id}:{event.placement_id}"
        context = {"week_starts": event.week_starts.isoformat(), "sector": event.sector}
        friday = policy.friday_before(event.week_starts, zone)
        for kind, due in (
            (Kind.PLACEMENT_PUBLISHED, self.p.at_once(now, starts, LONDON)),
            (Kind.PLACEMENT_STARTING, friday if friday >= now else None),
        ):
            await self.p.plan(
                uow,
                kind=kind,
                source=source,
                audience=Audience(event.student_id),
                due_at=due,
                expires_at=starts,
                context=context,
                student_id=event.student_id,
            )

    async def withdrawn(
        self, withdrawn: Event[AllocationWithdrawn], uow: NotificationsEvents
    ) -> None:
        event = withdrawn.payload
        source = f"placement:{event.round_id}:{event.student_id}:{event.placement_id}"
        await uow.messages.cancel_pending(uow.now(), source=source)

    async def employer_list(
        self, listed: Event[EmployerAllocationsPublished], uow: NotificationsEvents
    ) -> None:
        event = listed.payload
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
            uow,
            kind=Kind.EMPLOYER_LIST,
            source=f"employer-list:{event.round_id}:{event.employer_id}:{digest}",
            audience=Audience(event.employer_id, roles=("employer",)),
            due_at=self.p.at_once(uow.now(), expires, LONDON),
            expires_at=expires,
            context={"places": places},
        )
