"""How many wrong passwords an account or a network address may try before it must wait.

Failures are counted per key (the account's email, and the client's address) in a sliding
window; once a key reaches the limit, sign-in for it is refused until its oldest counted
failure leaves the window, even with the right password, so guessing costs real time. A
successful sign-in clears the account's count. The counts live in the process: with several
booking processes each keeps its own, which still bounds guessing to a small multiple.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class SignInThrottle:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    max_keys: int = 100_000
    _failures: dict[str, deque[datetime]] = field(default_factory=dict)

    def retry_after(self, keys: Iterable[str], now: datetime) -> timedelta | None:
        """How long the caller must wait before trying again, or None if they may try now."""
        waits = []
        for key in keys:
            recent = self._recent(key, now)
            if len(recent) >= self.max_failures:
                waits.append(recent[0] + self.window - now)
        return max(waits) if waits else None

    def failed(self, keys: Iterable[str], now: datetime) -> None:
        if len(self._failures) >= self.max_keys:
            self._failures.clear()  # bounded memory under a flood of invented keys
        for key in keys:
            self._recent(key, now).append(now)

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        recent = self._failures.setdefault(key, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        return recent
