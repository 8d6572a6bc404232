"""When a sign-in attempt must wait, following OWASP's advice on credential stuffing.

Wrong passwords are counted per account *and* where they come from (an address, or a device
that signed in to that account before), so nobody can slow down an account from elsewhere:
a pupil behind a school's shared address delays only their own guesses at one account, and
guesses from anywhere do not reach the owner's known device. Past a few free failures each
further attempt waits twice as long as the one before, up to a cap: slower, never locked.
Made-up emails are counted per address, with a ceiling, so one address cannot probe for
accounts at speed. The counts live in the process; several processes each keep their own.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class Backoff:
    """Failures per key in a sliding window; from the `free_failures`th on, a doubling wait."""

    free_failures: int = 5
    first_wait: timedelta = timedelta(seconds=2)
    max_wait: timedelta = timedelta(minutes=5)
    window: timedelta = timedelta(minutes=15)
    max_keys: int = 100_000
    _failures: dict[str, deque[datetime]] = field(default_factory=dict)

    def retry_after(self, key: str, now: datetime) -> timedelta | None:
        """How long `key` must wait before its next attempt, or None if it may try now."""
        recent = self._recent(key, now)
        over = len(recent) - self.free_failures
        if over < 0:
            return None
        wait = min(self.first_wait * 2**over, self.max_wait)
        ready = recent[-1] + wait
        return ready - now if ready > now else None

    def failed(self, key: str, now: datetime) -> None:
        if key not in self._failures and len(self._failures) >= self.max_keys:
            self._failures.clear()  # bounded memory under a flood of invented keys
        self._recent(key, now).append(now)

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        recent = self._failures.setdefault(key, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        return recent


@dataclass
class Ceiling:
    """At most `limit` failures per key in a sliding window; then wait for the oldest to leave."""

    limit: int = 30
    window: timedelta = timedelta(minutes=15)
    max_keys: int = 100_000
    _failures: dict[str, deque[datetime]] = field(default_factory=dict)

    def retry_after(self, key: str, now: datetime) -> timedelta | None:
        recent = self._recent(key, now)
        return recent[0] + self.window - now if len(recent) >= self.limit else None

    def failed(self, key: str, now: datetime) -> None:
        if key not in self._failures and len(self._failures) >= self.max_keys:
            self._failures.clear()
        self._recent(key, now).append(now)

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        recent = self._failures.setdefault(key, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        return recent


@dataclass
class SignInThrottle:
    """The waits for one sign-in: per (account, origin) pair, and per address for unknown emails.

    `origin` is the device's id when the caller shows a device cookie for this account,
    otherwise the client's address.
    """

    pairs: Backoff = field(default_factory=Backoff)
    unknown: Ceiling = field(default_factory=Ceiling)

    def retry_after(self, email: str, origin: str, now: datetime) -> timedelta | None:
        return self.pairs.retry_after(_pair(email, origin), now)

    def unknown_retry_after(self, address: str, now: datetime) -> timedelta | None:
        return self.unknown.retry_after(address, now)

    def wrong_password(self, email: str, origin: str, now: datetime) -> None:
        self.pairs.failed(_pair(email, origin), now)

    def unknown_account(self, address: str, now: datetime) -> None:
        self.unknown.failed(address, now)

    def succeeded(self, email: str, origin: str) -> None:
        self.pairs.succeeded(_pair(email, origin))


def _pair(email: str, origin: str) -> str:
    return f"{email}\0{origin}"
