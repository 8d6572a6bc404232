"""A student's own choice of how they are contacted, in and out of `contact_owners`.

Used by the contact-preferences API and the page that shows it, so both read and write the
same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from services.notifications.adapters.orm import contact_owners
from shared.db import Database

FIELDS = ("channel", "parent_copy", "opted_out")


async def preferences_of(db: Database, owner_id: str) -> dict[str, Any] | None:
    """The owner's channel, parent copy and opt-out; None before their school sent details."""
    async with db.read_session() as s:
        row = (
            await s.execute(
                sa.select(*(contact_owners.c[name] for name in FIELDS)).where(
                    contact_owners.c.owner_id == owner_id
                )
            )
        ).first()
    return row._asdict() if row is not None else None


async def save_preferences(
    db: Database, owner_id: str, values: dict[str, Any], now: datetime
) -> None:
    async with db.session() as s:
        await s.execute(
            contact_owners.update()
            .where(contact_owners.c.owner_id == owner_id)
            .values(**{name: values[name] for name in FIELDS}, updated_at=now)
        )
