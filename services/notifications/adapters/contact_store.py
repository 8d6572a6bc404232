"""Contacts as notifications keeps them: owners, their numbered routes, and SMS STOPs."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifications.adapters.orm import contact_owners, contacts, sms_opt_outs
from services.notifications.application.ports import (
    ContactOwner,
    Preferences,
    RouteDetails,
    StoredRoute,
)


def _stored(row: Any) -> StoredRoute:
    return StoredRoute(
        owner_id=row.owner_id,
        route=row.route,
        details=RouteDetails(
            role=row.role,
            phone=row.phone,
            email=row.email,
            sms_consent=row.sms_consent,
            email_consent=row.email_consent,
            preferred=tuple(p for p in row.preferred.split(",") if p),
        ),
        sms_undeliverable=row.sms_undeliverable,
        email_undeliverable=row.email_undeliverable,
    )


class ContactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def owner(self, owner_id: str) -> ContactOwner | None:
        row = (
            await self._session.execute(
                sa.select(contact_owners).where(contact_owners.c.owner_id == owner_id)
            )
        ).first()
        if row is None:
            return None
        return ContactOwner(
            owner_id=row.owner_id,
            kind=row.kind,
            school_id=row.school_id,
            revision=row.revision,
            channel=row.channel,
            parent_copy=row.parent_copy,
            opted_out=row.opted_out,
        )

    async def routes(self, owner_id: str, roles: Collection[str]) -> list[StoredRoute]:
        rows = await self._session.execute(
            sa.select(contacts)
            .where(contacts.c.owner_id == owner_id, contacts.c.role.in_(list(roles)))
            .order_by(contacts.c.route)
        )
        return [_stored(row) for row in rows]

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
        s = self._session
        values = {"kind": kind, "school_id": school_id, "revision": revision, "updated_at": now}
        held = await s.scalar(
            sa.select(contact_owners.c.owner_id).where(contact_owners.c.owner_id == owner_id)
        )
        if held is None:
            await s.execute(
                contact_owners.insert().values(
                    owner_id=owner_id, channel=None, parent_copy=True, opted_out=False, **values
                )
            )
        else:
            await s.execute(
                contact_owners.update()
                .where(contact_owners.c.owner_id == owner_id)
                .values(**values)
            )
        old = {
            row.route: row
            for row in await s.execute(sa.select(contacts).where(contacts.c.owner_id == owner_id))
        }
        await s.execute(contacts.delete().where(contacts.c.owner_id == owner_id))
        rows = []
        for n, route in enumerate(routes):
            before = old.get(n)
            # A failure mark stays with the address that failed, not with the position.
            rows.append(
                {
                    "owner_id": owner_id,
                    "route": n,
                    "role": route.role,
                    "phone": route.phone,
                    "email": route.email,
                    "sms_consent": route.sms_consent,
                    "email_consent": route.email_consent,
                    "preferred": ",".join(route.preferred),
                    "sms_undeliverable": before.sms_undeliverable
                    if before is not None and before.phone == route.phone
                    else None,
                    "email_undeliverable": before.email_undeliverable
                    if before is not None and before.email == route.email
                    else None,
                }
            )
        if rows:
            await s.execute(contacts.insert(), rows)

    async def forget(self, owner_id: str) -> None:
        await self._session.execute(contacts.delete().where(contacts.c.owner_id == owner_id))
        await self._session.execute(
            contact_owners.delete().where(contact_owners.c.owner_id == owner_id)
        )

    async def preferences(self, owner_id: str) -> Preferences | None:
        row = (
            await self._session.execute(
                sa.select(
                    contact_owners.c.channel,
                    contact_owners.c.parent_copy,
                    contact_owners.c.opted_out,
                ).where(contact_owners.c.owner_id == owner_id)
            )
        ).first()
        return None if row is None else Preferences(**row._asdict())

    async def choose(self, owner_id: str, preferences: Preferences, now: datetime) -> None:
        await self._session.execute(
            contact_owners.update()
            .where(contact_owners.c.owner_id == owner_id)
            .values(
                channel=preferences.channel,
                parent_copy=preferences.parent_copy,
                opted_out=preferences.opted_out,
                updated_at=now,
            )
        )

    async def lock_owner(self, owner_id: str) -> None:
        dialect = self._session.bind.dialect.name if self._session.bind is not None else ""
        if dialect == "postgresql":  # SQLite runs one writing transaction at a time anyway
            await self._session.execute(
                sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext("owner:" + owner_id)))
            )

    async def clear_undeliverable(self, owner_id: str, route: int, channel: str) -> None:
        column = "sms_undeliverable" if channel == "sms" else "email_undeliverable"
        await self._session.execute(
            contacts.update()
            .where(contacts.c.owner_id == owner_id, contacts.c.route == route)
            .values({column: None})
        )

    async def mark_undeliverable(
        self, owner_id: str, route: int, channel: str, reason: str
    ) -> StoredRoute | None:
        column = "sms_undeliverable" if channel == "sms" else "email_undeliverable"
        where = (contacts.c.owner_id == owner_id, contacts.c.route == route)
        await self._session.execute(contacts.update().where(*where).values({column: reason}))
        row = (await self._session.execute(sa.select(contacts).where(*where))).first()
        return None if row is None else _stored(row)

    async def stop_sms(self, phone: str, now: datetime) -> None:
        exists = await self._session.scalar(
            sa.select(sms_opt_outs.c.phone).where(sms_opt_outs.c.phone == phone)
        )
        if exists is None:
            await self._session.execute(sms_opt_outs.insert().values(phone=phone, opted_out_at=now))

    async def start_sms(self, phone: str) -> None:
        await self._session.execute(sms_opt_outs.delete().where(sms_opt_outs.c.phone == phone))

    async def sms_stopped(self, phone: str) -> bool:
        found = await self._session.scalar(
            sa.select(sms_opt_outs.c.phone).where(sms_opt_outs.c.phone == phone)
        )
        return found is not None
