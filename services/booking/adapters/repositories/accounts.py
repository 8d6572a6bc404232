"""Accounts and their sign-in sessions, each call one short transaction of its own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa

from services.booking.adapters.orm import accounts, sessions
from services.booking.application.ports import Account
from shared.auth.principal import Role
from shared.db import Database
from shared.events.envelope import Envelope
from shared.events.identity import SessionRevoked
from shared.messaging.outbox import record


class AccountStore:
    def __init__(self, db: Database, *, on_commit: Callable[[], None] | None = None) -> None:
        self._db = db
        self._on_commit = on_commit

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

    async def revoke(self, session_id: str, at: datetime, *, tokens_until: datetime) -> None:
        """End the session and, in the same transaction, tell every service through the
        outbox to refuse its tokens until `tokens_until`."""
        async with self._db.session() as s:
            ended = await s.execute(
                sessions.update()
                .where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
            if not ended.rowcount:  # type: ignore[attr-defined]
                return
            revoked = SessionRevoked(session_id=session_id, expires_at=tokens_until)
            await record(
                s, Envelope.wrap(revoked, key=session_id, producer="booking", occurred_at=at)
            )
        if self._on_commit is not None:
            self._on_commit()

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
