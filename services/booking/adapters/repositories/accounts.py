"""Accounts and their sign-in sessions, each call one short transaction of its own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.booking.adapters.orm import accounts, sessions
from services.booking.application.ports import Account
from shared.auth.principal import Role
from shared.db import Database
from shared.events.envelope import Envelope
from shared.events.identity import RevocationReason, SessionRevoked
from shared.messaging.outbox import record


class AccountStore:
    def __init__(self, db: Database, *, on_commit: Callable[[], None] | None = None) -> None:
        self._db = db
        self._on_commit = on_commit

    async def by_email(self, email: str) -> Account | None:
        async with self._db.read_session() as s:
            row = (await s.execute(sa.select(accounts).where(accounts.c.email == email))).first()
        return _account(row)

    async def by_id(self, account_id: str) -> Account | None:
        async with self._db.read_session() as s:
            row = (await s.execute(sa.select(accounts).where(accounts.c.id == account_id))).first()
        return _account(row)

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
                    last_seen_at=created_at,
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
            await _announce(s, [session_id], at, tokens_until, RevocationReason.SIGNED_OUT)
        self._woken()

    async def change_password(
        self,
        account_id: str,
        password_hash: str,
        at: datetime,
        *,
        keep: str,
        tokens_until: datetime,
    ) -> list[str]:
        async with self._db.session() as s:
            await s.execute(
                accounts.update()
                .where(accounts.c.id == account_id)
                .values(password_hash=password_hash, password_changed_at=at)
            )
            ended = await _end_sessions(s, account_id, at, keep=keep)
            await _announce(s, ended, at, tokens_until, RevocationReason.PASSWORD_CHANGED)
        self._woken()
        return ended

    async def set_active(
        self, account_id: str, active: bool, at: datetime, *, tokens_until: datetime
    ) -> list[str] | None:
        async with self._db.session() as s:
            changed = await s.execute(
                accounts.update().where(accounts.c.id == account_id).values(active=active)
            )
            if not changed.rowcount:  # type: ignore[attr-defined]
                return None
            ended = [] if active else await _end_sessions(s, account_id, at)
            await _announce(s, ended, at, tokens_until, RevocationReason.ACCOUNT_DISABLED)
        self._woken()
        return ended

    async def revoke_all(
        self, account_id: str, at: datetime, *, tokens_until: datetime, reason: str
    ) -> list[str] | None:
        async with self._db.session() as s:
            known = await s.scalar(sa.select(accounts.c.id).where(accounts.c.id == account_id))
            if known is None:
                return None
            ended = await _end_sessions(s, account_id, at)
            await _announce(s, ended, at, tokens_until, reason)
        self._woken()
        return ended

    async def seen(self, session_id: str, at: datetime) -> None:
        async with self._db.session() as s:
            await s.execute(
                sessions.update().where(sessions.c.id == session_id).values(last_seen_at=at)
            )

    def _woken(self) -> None:
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


def _account(row: sa.Row[Any] | None) -> Account | None:
    if row is None:
        return None
    return Account(
        id=row.id,
        role=Role(row.role),
        school_ids=tuple(row.school_ids or ()),
        ebp_id=row.ebp_id,
        active=row.active,
        password_hash=row.password_hash,
        email=row.email,
    )


async def _end_sessions(
    s: AsyncSession, account_id: str, at: datetime, *, keep: str | None = None
) -> list[str]:
    """Mark the account's open sessions revoked (all but `keep`); their ids."""
    still_open = sa.and_(
        sessions.c.account_id == account_id,
        sessions.c.revoked_at.is_(None),
        sessions.c.expires_at > at,
    )
    if keep is not None:
        still_open = sa.and_(still_open, sessions.c.id != keep)
    ids = list((await s.execute(sa.select(sessions.c.id).where(still_open))).scalars())
    if ids:
        await s.execute(sessions.update().where(sessions.c.id.in_(ids)).values(revoked_at=at))
    return ids


async def _announce(
    s: AsyncSession, session_ids: list[str], at: datetime, tokens_until: datetime, reason: str
) -> None:
    """Tell every service, through the outbox in this transaction, to refuse these sessions."""
    for session_id in session_ids:
        revoked = SessionRevoked(session_id=session_id, expires_at=tokens_until, reason=reason)
        await record(s, Envelope.wrap(revoked, key=session_id, producer="booking", occurred_at=at))
