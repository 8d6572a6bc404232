"""Message rows: written once per identity, claimed by one dispatcher at a time.

`claim_due` takes due rows (and rows whose claim's lease has run out) with `FOR UPDATE SKIP
LOCKED` on PostgreSQL, so two replicas never take the same row; on SQLite every write
transaction already holds the database (`BEGIN IMMEDIATE`) and the same conditional UPDATE
does the job. The claim is committed before any provider is called.

`MessageRepository` is the port the application uses (`application.ports.Messages`); the
functions below it are its statements, over any session.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.adapters.orm import contact_owners, contacts, messages, sms_opt_outs
from services.notifications.application.ports import Claimed, NewMessage, SentMessage

__all__ = ["Claimed", "MessageRepository", "NewMessage", "claim_due", "finish", "write"]

PENDING = ("pending",)


async def write(session: AsyncSession, items: Sequence[NewMessage], now: datetime) -> None:
    """Insert each message unless its identity exists; a cancelled one comes back to life
    (an appointment moved away and back again) with the new time and context."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for item in items:
        stmt = insert(messages).values(
            id=str(uuid.uuid4()),
            source=item.source,
            kind=item.kind,
            recipient=f"{item.owner_id}/{item.route}",
            channel=item.channel,
            owner_id=item.owner_id,
            route=item.route,
            school_id=item.school_id,
            student_id=item.student_id,
            appointment_id=item.appointment_id,
            variant=item.variant,
            context=item.context,
            status="pending",
            due_at=item.due_at,
            expires_at=item.expires_at,
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["source", "kind", "recipient", "channel"],
            set_={
                "status": "pending",
                "due_at": stmt.excluded.due_at,
                "expires_at": stmt.excluded.expires_at,
                "context": stmt.excluded.context,
                "attempts": 0,
                "error": None,
                "updated_at": now,
            },
            where=messages.c.status == "cancelled",
        )
        await session.execute(stmt)


async def cancel(session: AsyncSession, condition: sa.ColumnElement[bool], now: datetime) -> None:
    await session.execute(
        messages.update()
        .where(condition, messages.c.status == "pending")
        .values(status="cancelled", updated_at=now)
    )


async def claim_due(
    session: AsyncSession, now: datetime, *, limit: int, lease: timedelta
) -> list[Claimed]:
    token = str(uuid.uuid4())
    due = sa.or_(
        sa.and_(messages.c.status == "pending", messages.c.due_at <= now),
        sa.and_(messages.c.status == "sending", messages.c.lease_until < now),
    )
    candidates = sa.select(messages.c.id).where(due).order_by(messages.c.due_at).limit(limit)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # A CTE is evaluated once: as an `IN (subquery)` PostgreSQL may run the locking
        # subquery again for each row, and with SKIP LOCKED each run finds other rows.
        chosen = candidates.with_for_update(skip_locked=True).cte("chosen")
        chosen = chosen.prefix_with("MATERIALIZED")
        picked: sa.ColumnElement[bool] = messages.c.id == chosen.c.id
    else:
        picked = messages.c.id.in_(candidates.scalar_subquery())
    await session.execute(
        messages.update()
        .where(picked, due)
        .values(
            status="sending",
            claim=token,
            lease_until=now + lease,
            attempts=messages.c.attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    stopped = sa.exists().where(sms_opt_outs.c.phone == contacts.c.phone)
    rows = await session.execute(
        sa.select(
            messages.c.id,
            messages.c.claim,
            messages.c.kind,
            messages.c.channel,
            messages.c.variant,
            messages.c.context,
            messages.c.due_at,
            messages.c.expires_at,
            messages.c.attempts,
            messages.c.owner_id,
            contact_owners.c.kind.label("owner_kind"),
            sa.func.coalesce(messages.c.school_id, contact_owners.c.school_id).label("school_id"),
            messages.c.route,
            contacts.c.role,
            contacts.c.phone,
            contacts.c.email,
            sa.func.coalesce(contacts.c.sms_consent, False).label("sms_consent"),
            sa.func.coalesce(contacts.c.email_consent, False).label("email_consent"),
            sa.case(
                (messages.c.channel == "sms", contacts.c.sms_undeliverable),
                else_=contacts.c.email_undeliverable,
            ).label("undeliverable"),
            sa.func.coalesce(contact_owners.c.opted_out, False).label("opted_out"),
            stopped.label("sms_stopped"),
        )
        .select_from(
            messages.outerjoin(
                contacts,
                sa.and_(
                    contacts.c.owner_id == messages.c.owner_id,
                    contacts.c.route == messages.c.route,
                ),
            ).outerjoin(contact_owners, contact_owners.c.owner_id == messages.c.owner_id)
        )
        .where(messages.c.claim == token)
    )
    return [Claimed(**row._asdict()) for row in rows]


async def finish(session: AsyncSession, item: Claimed, now: datetime, **values: Any) -> bool:
    """Record an outcome, if the claim is still this dispatcher's (its lease not taken over)."""
    result = await session.execute(
        messages.update()
        .where(
            messages.c.id == item.id,
            messages.c.claim == item.claim,
            messages.c.status == "sending",
        )
        .values(lease_until=None, claim=None, updated_at=now, **values)
    )
    return bool(getattr(result, "rowcount", 0))


class MessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def write(self, items: Sequence[NewMessage], now: datetime) -> None:
        await write(self._session, items, now)

    async def cancel_pending(
        self, now: datetime, *, source: str | None = None, appointment_id: str | None = None
    ) -> None:
        if (source is None) == (appointment_id is None):
            raise ValueError("cancel by source or by appointment")
        about = (
            messages.c.source == source
            if source is not None
            else messages.c.appointment_id == appointment_id
        )
        await cancel(self._session, about, now)

    async def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[Claimed]:
        return await claim_due(self._session, now, limit=limit, lease=lease)

    async def finish(self, item: Claimed, now: datetime, **values: Any) -> bool:
        return await finish(self._session, item, now, **values)

    async def handed_over(
        self, item: Claimed, now: datetime, *, provider_id: str, body: str
    ) -> bool:
        return await finish(
            self._session,
            item,
            now,
            # A status callback may have overtaken this record: keep what it said.
            status=sa.case(
                (messages.c.provider_status == "delivered", "delivered"),
                (messages.c.provider_status.in_(("undelivered", "failed")), "failed"),
                else_="sent",
            ),
            provider_id=provider_id,
            provider_status=sa.func.coalesce(messages.c.provider_status, "accepted"),
            body=body,
            handed_at=now,
            error=None,
        )

    async def suppress_sms_to(self, phone: str, now: datetime) -> int:
        routes = sa.select(contacts.c.owner_id, contacts.c.route).where(contacts.c.phone == phone)
        result = await self._session.execute(
            messages.update()
            .where(
                messages.c.channel == "sms",
                messages.c.status.in_(PENDING),
                sa.tuple_(messages.c.owner_id, messages.c.route).in_(routes),
            )
            .values(status="suppressed", error="opted-out", updated_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def sent(self, *, message_id: str | None, provider_id: str) -> SentMessage | None:
        which = messages.c.id == message_id if message_id else messages.c.provider_id == provider_id
        row = (
            await self._session.execute(
                sa.select(
                    messages.c.id,
                    messages.c.kind,
                    messages.c.channel,
                    messages.c.school_id,
                    messages.c.owner_id,
                    messages.c.route,
                    messages.c.provider_status,
                    messages.c.status,
                ).where(which)
            )
        ).first()
        return None if row is None else SentMessage(**row._asdict())

    async def record_provider_status(
        self, message_id: str, now: datetime, *, provider_status: str, **values: Any
    ) -> None:
        await self._session.execute(
            messages.update()
            .where(messages.c.id == message_id)
            .values(provider_status=provider_status, updated_at=now, **values)
        )

    async def erase_student(self, student_id: str, now: datetime) -> None:
        mine = messages.c.student_id == student_id
        await self._session.execute(
            messages.update()
            .where(mine, messages.c.status.in_(PENDING))
            .values(status="cancelled", error="erased", updated_at=now)
        )
        await self._session.execute(
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

    async def count_pending(self) -> int:
        pending = await self._session.scalar(
            sa.select(sa.func.count()).where(messages.c.status == "pending")
        )
        return int(pending or 0)
