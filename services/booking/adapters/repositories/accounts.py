"""Accounts and their sign-in sessions, each call one short transaction of its own."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from services.booking.adapters.orm import accounts, sessions
from services.booking.application.ports import Account
from shared.auth.principal import Role
from shared.db import Database


class AccountStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def by_email(self, email: str) -> Account | None:
        async with self._db.read_session() as s:
            row = (await s.execute(sa.select(accounts).where(accounts.c.email == email))).first()
        if row is None:
            return None
        return Account(
            id=row.id,
            role=Role(row.role),
            school_ids=tuple(row.school_ids or ()),
            ebp_id=row.ebp_id,
            active=row.active,
            password_hash=row.password_hash,
        )

    async def open_session(
        self,
        session_id: str,
        account_id: str,
        created_at: datetime,
        expires_at: datetime,
        *,
        rehashed: str | None = None,
    ) -> None:
        """Record a new session; with `rehashed`, replace the account's password hash too."""
        async with self._db.session() as s:
            await s.execute(
                sessions.insert().values(
                    id=session_id,
                    account_id=account_id,
                    created_at=created_at,
                    expires_at=expires_at,
                )
            )
            if rehashed is not None:
                await s.execute(
                    accounts.update()
                    .where(accounts.c.id == account_id)
                    .values(password_hash=rehashed)
                )

    async def revoke(self, session_id: str, at: datetime) -> None:
        async with self._db.session() as s:
            await s.execute(
                sessions.update()
                .where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )

    async def open_until(self, session_id: str) -> datetime | None:
        """When the session ends, or None if there is no such session or it was revoked:
        one statement (`Database.single_read`), since every request asks."""
        async with self._db.single_read() as conn:
            found = await conn.execute(sa.select(sessions).where(sessions.c.id == session_id))
            row = found.first()
        if row is None or row.revoked_at is not None:
            return None
        expires: datetime = row.expires_at
        return expires if expires.tzinfo else expires.replace(tzinfo=UTC)
