"""What a student's own page shows beside their appointments: their advisers and when each
is next in school, the waitlists they are on, places offered to them, and today's drop-in at
their school with their place in its queue.

Reads only, over the same application functions as the JSON API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.booking.application import dropins
from services.booking.application.adviser_visits import AdviserVisit, advisers_in_school
from services.booking.application.ports import DropInSession, OfferRecord
from services.booking.domain.errors import NotInQueue
from services.booking.domain.model import LONDON, SessionType
from services.booking.entrypoints.context import BookingContext
from shared.auth.principal import Principal

WAITLIST_KINDS = {
    SessionType.INTERVIEW: "Careers interview",
    SessionType.DROPIN: "Drop-in slot",
    SessionType.GROUP: "Group session",
}


@dataclass(frozen=True)
class DropInToday:
    session: DropInSession
    place: dropins.QueuePlace | None

    @property
    def status_url(self) -> str:
        return f"/api/v1/dropins/{self.session.id}/queue"


def school_of(principal: Principal) -> str | None:
    return next(iter(sorted(principal.school_ids)), None)


async def advisers_for(ctx: BookingContext, principal: Principal) -> list[AdviserVisit]:
    """The advisers of the student's school and when each is next in it."""
    school_id = school_of(principal)
    if school_id is None:
        return []
    async with ctx.reads() as reads:
        return await advisers_in_school(reads, school_id, ctx.clock())


async def waiting_for(ctx: BookingContext, principal: Principal) -> list[SessionType]:
    """The session types the student waits for at their school."""
    school_id = school_of(principal)
    if school_id is None:
        return []
    async with ctx.reads() as reads:
        return [
            kind
            for kind in WAITLIST_KINDS
            if await reads.waitlist.waiting_entry_id(principal.user_id, school_id, kind)
        ]


async def offers_to(ctx: BookingContext, principal: Principal) -> list[OfferRecord]:
    async with ctx.reads() as reads:
        return list(await reads.waitlist.open_offers_of(principal.user_id))


async def dropins_today(ctx: BookingContext, principal: Principal) -> list[DropInToday]:
    """Today's drop-ins at the student's school not yet over, with the student's place."""
    school_id = school_of(principal)
    if school_id is None:
        return []
    now = ctx.clock()
    today = now.astimezone(LONDON).date()
    sessions = await dropins.sessions_on(ctx.reads, school_id, today, ctx.unit_of_work())
    found = []
    async with ctx.reads() as reads:
        for session in sessions:
            if session.ends_at <= now:
                continue
            try:
                place = await dropins.queue_place(reads.dropins, session.id, principal.user_id)
            except NotInQueue:
                place = None
            found.append(DropInToday(session, place))
    return found


def opens_at(session: DropInSession) -> datetime:
    return session.starts_at - dropins.OPENS_BEFORE
