"""Signing in and out: accounts, argon2id hashes, sessions and the tokens booking issues."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.booking.application.ports import Account, AccountStore, DeviceTokens
from services.booking.domain.passwords import password_problem
from services.booking.domain.sign_in_throttle import SignInThrottle
from shared.auth.passwords import PasswordHasher
from shared.auth.principal import Principal, Role
from shared.auth.tokens import TokenIssuer, accepted_until
from shared.events.identity import RevocationReason

# A real hash of a random password, verified when the email is unknown so that a wrong
# email and a wrong password take the same time.
_DUMMY_HASH_PASSWORD = uuid.uuid4().hex


SESSION_CHECK_SECONDS = 5.0
LAST_SEEN_SECONDS = 60.0  # how often a busy session's "last seen" is written


class TooManyAttempts(Exception):
    """Too many wrong passwords for this account from here, or made-up emails: wait first."""

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__("too many sign-in attempts")
        self.retry_after = retry_after


class InvalidCredentials(Exception):
    """Wrong email or password (never said which)."""


class AccountDisabled(Exception):
    """The account is disabled: said whatever the password, so it tells nothing about it."""


class WrongPassword(Exception):
    """The current password given to change it is wrong."""


class UnacceptablePassword(Exception):
    """The new password breaks a rule (`domain/passwords.py`); the message says which."""


class UnknownAccount(Exception):
    """No account has this id."""


class OwnAccount(Exception):
    """An admin may not disable the account they are signed in with."""


@dataclass(frozen=True)
class AccountStatus:
    account_id: str
    active: bool
    sessions_ended: int


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
        self._seen: dict[str, float] = {}
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
        if row is not None and not row.active:
            if (wait := self._throttle.unknown_retry_after(address, now)) is not None:
                raise TooManyAttempts(wait)
            await asyncio.to_thread(
                self._hasher.verify, row.password_hash or self._dummy_hash, password
            )
            self._throttle.unknown_account(address, now)
            raise AccountDisabled
        if row is None or row.password_hash is None:
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
        self._seen[session_id] = self._monotonic()
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

    async def change_password(self, principal: Principal, current: str, new: str) -> int:
        """Replace the signed-in person's password; every other session of the account ends
        (this one stays signed in). The number of sessions ended."""
        now = self._clock()
        row = await self._accounts.by_id(principal.user_id)
        if row is None or row.password_hash is None or not principal.session_id:
            raise WrongPassword
        origin = f"session:{principal.session_id}"
        if (wait := self._throttle.retry_after(row.email, origin, now)) is not None:
            raise TooManyAttempts(wait)
        if not await asyncio.to_thread(self._hasher.verify, row.password_hash, current):
            self._throttle.wrong_password(row.email, origin, now)
            raise WrongPassword
        if (problem := password_problem(new, row.email)) is not None:
            raise UnacceptablePassword(problem)
        hashed = await asyncio.to_thread(self._hasher.hash, new)
        ended = await self._accounts.change_password(
            row.id, hashed, now, keep=principal.session_id, tokens_until=self._tokens_until(now)
        )
        self._forget(ended)
        return len(ended)

    async def set_active(self, by: Principal, account_id: str, active: bool) -> AccountStatus:
        """Enable or disable an account; disabling ends every session it has open."""
        if not active and account_id == by.user_id:
            raise OwnAccount
        now = self._clock()
        ended = await self._accounts.set_active(
            account_id, active, now, tokens_until=self._tokens_until(now)
        )
        if ended is None:
            raise UnknownAccount
        self._forget(ended)
        return AccountStatus(account_id, active, len(ended))

    async def sign_out_everywhere(self, account_id: str) -> int:
        """End every open session of the account; how many there were."""
        now = self._clock()
        ended = await self._accounts.revoke_all(
            account_id,
            now,
            tokens_until=self._tokens_until(now),
            reason=RevocationReason.SIGNED_OUT_EVERYWHERE,
        )
        if ended is None:
            raise UnknownAccount
        self._forget(ended)
        return len(ended)

    async def account(self, account_id: str) -> Account:
        found = await self._accounts.by_id(account_id)
        if found is None:
            raise UnknownAccount
        return found

    def _tokens_until(self, now: datetime) -> datetime:
        return accepted_until(now, self._issuer.ttl)

    def _forget(self, session_ids: list[str]) -> None:
        for session_id in session_ids:
            self._active_sessions.pop(session_id, None)

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
            if self._seen.get(session_id, -LAST_SEEN_SECONDS) + LAST_SEEN_SECONDS <= now:
                if len(self._seen) > 10_000:
                    self._seen.clear()
                self._seen[session_id] = now
                await self._accounts.seen(session_id, self._clock())
        return active

    def _remember_active(self, session_id: str) -> None:
        if len(self._active_sessions) > 10_000:
            self._active_sessions.clear()
        self._active_sessions[session_id] = self._monotonic() + SESSION_CHECK_SECONDS

    async def _read_session_active(self, session_id: str) -> bool:
        ends = await self._accounts.open_until(session_id)
        return ends is not None and ends > self._clock()
