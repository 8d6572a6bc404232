"""Signing in and out: accounts, argon2id hashes, sessions and the tokens booking issues."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.booking.application.ports import AccountStore, DeviceTokens
from services.booking.domain.sign_in_throttle import SignInThrottle
from shared.auth.passwords import PasswordHasher
from shared.auth.principal import Principal, Role
from shared.auth.tokens import TokenIssuer, accepted_until

# A real hash of a random password, verified when the email is unknown so that a wrong
# email and a wrong password take the same time.
_DUMMY_HASH_PASSWORD = uuid.uuid4().hex


SESSION_CHECK_SECONDS = 5.0


class TooManyAttempts(Exception):
    """Too many wrong passwords for this account from here, or made-up emails: wait first."""

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
    device_token: str


class Identity:
    """Sign-in, its throttles and the sessions it opens; `clock` tells the time of day and
    `monotonic` measures how long a session check is remembered."""

    def __init__(
        self,
        accounts: AccountStore,
        issuer: TokenIssuer,
        hasher: PasswordHasher,
        devices: DeviceTokens,
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
        self._devices = devices
        self._session_ttl = session_ttl
        self._dummy_hash = hasher.hash(_DUMMY_HASH_PASSWORD)
        self._active_sessions: dict[str, float] = {}
        self._throttle = SignInThrottle()

    async def sign_in(
        self,
        email: str,
        password: str,
        *,
        client: str | None = None,
        device: str | None = None,
    ) -> SignedIn:
        """Check the password and open a session; `client` is the caller's network address
        and `device` the device cookie it showed, if any."""
        email = email.strip().lower()
        address = client or "unknown"
        now = self._clock()
        device_id = self._devices.device_of(device, email) if device else None
        origin = f"device:{device_id}" if device_id else f"address:{address}"
        if (wait := self._throttle.retry_after(email, origin, now)) is not None:
            raise TooManyAttempts(wait)
        row = await self._accounts.by_email(email)
        if row is None or not row.active or row.password_hash is None:
            if (wait := self._throttle.unknown_retry_after(address, now)) is not None:
                raise TooManyAttempts(wait)
            await asyncio.to_thread(self._hasher.verify, self._dummy_hash, password)
            self._throttle.unknown_account(address, now)
            raise InvalidCredentials
        # Argon2 takes a good tenth of a second by design: off the event loop, so that a
        # class signing in at once does not stall everyone's bookings.
        if not await asyncio.to_thread(self._hasher.verify, row.password_hash, password):
            self._throttle.wrong_password(email, origin, now)
            # Past the address's ceiling a wrong password answers as a made-up email does,
            # so the ceiling does not tell real accounts from invented ones.
            if (wait := self._throttle.unknown_retry_after(address, now)) is not None:
                raise TooManyAttempts(wait)
            raise InvalidCredentials
        self._throttle.succeeded(email, origin)
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
        device_token = device if device_id and device else self._devices.issue(email)
        ttl = int(self._issuer.ttl.total_seconds())
        return SignedIn(token, ttl, row.id, role, session_id, device_token)

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
        now = self._clock()
        await self._accounts.revoke(
            session_id, now, tokens_until=accepted_until(now, self._issuer.ttl)
        )

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
