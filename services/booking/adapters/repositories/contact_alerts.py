"""The contact routes notifications could not deliver to, one row per (person, route, channel)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import contact_alerts
from services.booking.application.ports import ContactAlert
from shared.db import upsert


class ContactAlertRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def keep(self, alert: ContactAlert) -> None:
        """Store the alert, replacing an earlier one for the same route and channel."""
        await upsert(
            self._session,
            contact_alerts,
            {
                "owner_id": alert.owner_id,
                "route": alert.route,
                "channel": alert.channel,
                "owner_kind": alert.owner_kind,
                "school_id": alert.school_id,
                "role": alert.role,
                "reason": alert.reason,
                "reported_at": alert.reported_at,
            },
            key=("owner_id", "route", "channel"),
        )

    async def forget_owner(self, owner_id: str) -> None:
        await self._session.execute(
            contact_alerts.delete().where(contact_alerts.c.owner_id == owner_id)
        )

    async def forget_route(self, owner_id: str, role: str, channel: str) -> None:
        await self._session.execute(
            contact_alerts.delete().where(
                contact_alerts.c.owner_id == owner_id,
                contact_alerts.c.role == role,
                contact_alerts.c.channel == channel,
            )
        )

    async def dismiss(self, school_id: str, owner_id: str, route: int, channel: str) -> bool:
        result = await self._session.execute(
            contact_alerts.delete().where(
                contact_alerts.c.school_id == school_id,
                contact_alerts.c.owner_id == owner_id,
                contact_alerts.c.route == route,
                contact_alerts.c.channel == channel,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def of_school(self, school_id: str) -> list[ContactAlert]:
        """The school's alerts, the newest first."""
        rows = await self._session.execute(
            sa.select(contact_alerts)
            .where(contact_alerts.c.school_id == school_id)
            .order_by(contact_alerts.c.reported_at.desc())
        )
        return [ContactAlert(**row._asdict()) for row in rows]
