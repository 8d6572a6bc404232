"""Signing in and out: accounts, argon2id hashes, sessions and the tokens booking issues."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.booking.application.ports import AccountStore
from services.booking.domain.sign_in_throttle import SignInThrottle
from shared.auth.passwords import PasswordHasher
from shared.auth.principal import Principal, Role
from shared.auth.tokens import TokenIssuer

# A real hash of a random password, verified when the email is unknown so that a wrong
# email and a wrong password take the same time.
_DUMMY_HASH_PASSWORD = uuid.uuid4().hex


SESSION_CHECK_SECONDS = 5.0


class TooManyAttempts(Exception):
    """Too many wrong passwords for this account or from this address: wait first."""

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__("too many sign-in attempts")
        self.retry_after = retry_after


class InvalidCredentials(Exception):
    """Wrong email or password (never said which)."""


@dataclass(frozen=True)
class SignedIn:
    token: str
    expires_in: int
    account_id: str
    role: Role
    session_id: str


class Identity:
    """Sign-in, its throttles and the sessions it opens; `clock` tells the time of day and
    `monotonic` measures how long a session check is remembered."""

    def __init__(
        self,
        accounts: AccountStore,
        issuer: TokenIssuer,
        hasher: PasswordHasher,
        *,
        session_ttl: timedelta,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float],
    ) -> None:
        self._accounts = accounts
        self._clock = clock
        self._monotonic = monotonic
        self._issuer = issuer
        self._hasher = hasher
        self._session_ttl = session_ttl
        self._dummy_hash = hasher.hash(_DUMMY_HASH_PASSWORD)
        self._active_sessions: dict[str, float] = {}
        # Per account: a handful of tries. Per address: many more, because a whole school's
        # pupils usually reach us from one address and must not lock each other out.
        self._account_throttle = SignInThrottle(max_failures=5)
        self._address_throttle = SignInThrottle(max_failures=100)

    async def sign_in(self, email: str, password: str, *, client: str | None = None) -> SignedIn:
        """Check the password and open a session; `client` is the caller's network address."""
        email = email.strip().lower()
        now = self._clock()
        waits = [
            wait
            for throttle, key in self._throttles(email, client)
            if (wait := throttle.retry_after([key], now)) is not None
        ]
        if waits:
            raise TooManyAttempts(max(waits))
        row = await self._accounts.by_email(email)
        if row is None or not row.active or row.password_hash is None:
            await asyncio.to_thread(self._hasher.verify, self._dummy_hash, password)
            self._failed(email, client, now)
            raise InvalidCredentials
        # Argon2 takes a good tenth of a second by design: off the event loop, so that a
        # class signing in at once does not stall everyone's bookings.
        if not await asyncio.to_thread(self._hasher.verify, row.password_hash, password):
            self._failed(email, client, now)
            raise InvalidCredentials
        self._account_throttle.succeeded(email)
        session_id = str(uuid.uuid4())
        rehashed = None
        if self._hasher.needs_rehash(row.password_hash):
            rehashed = await asyncio.to_thread(self._hasher.hash, password)
        await self._accounts.open_session(
            session_id, row.id, now, now + self._session_ttl, rehashed=rehashed
        )
        self._remember_active(session_id)  # its first requests need not read it back
        role = row.role
        token = self._issuer.issue(
            user_id=row.id,
            role=role,
            school_ids=row.school_ids,
            ebp_id=row.ebp_id,
            session_id=session_id,
            now=now,
        )
        return SignedIn(token, int(self._issuer.ttl.total_seconds()), row.id, role, session_id)

    def _throttles(self, email: str, client: str | None) -> list[tuple[SignInThrottle, str]]:
        pairs = [(self._account_throttle, email)]
        if client:
            pairs.append((self._address_throttle, client))
        return pairs

    def _failed(self, email: str, client: str | None, now: datetime) -> None:
        for throttle, key in self._throttles(email, client):
            throttle.failed([key], now)

    def reissue(self, principal: Principal) -> tuple[str, int]:
        """A fresh token for a session still in use (the caller checked it is active)."""
        token = self._issuer.issue(
            user_id=principal.user_id,
            role=principal.role,
            school_ids=principal.school_ids,
            ebp_id=principal.ebp_id,
            session_id=principal.session_id,
            now=self._clock(),
        )
        return token, int(self._issuer.ttl.total_seconds())

    async def sign_out(self, session_id: str) -> None:
        self._active_sessions.pop(session_id, None)
        await self._accounts.revoke(session_id, self._clock())

    async def session_active(self, session_id: str) -> bool:
        """Whether the session behind a token is still open (not signed out, not expired).

        A positive answer is remembered for a few seconds so that busy pages do not read the
        sessions table on every request; signing out here forgets it at once, and another
        booking process notices within those seconds.
        """
        now = self._monotonic()
        remembered = self._active_sessions.get(session_id)
        if remembered is not None and remembered > now:
            return True
        active = await self._read_session_active(session_id)
        if active:
            self._remember_active(session_id)
        return active

    def _remember_active(self, session_id: str) -> None:
        if len(self._active_sessions) > 10_000:
            self._active_sessions.clear()
        self._active_sessions[session_id] = self._monotonic() + SESSION_CHECK_SECONDS

    async def _read_session_active(self, session_id: str) -> bool:
        ends = await self._accounts.open_until(session_id)
        return ends is not None and ends > self._clock()
