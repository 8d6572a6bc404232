"""Device cookies: a random device id and an HMAC-SHA256 over it and the account's email, so
the cookie names no one and is good only for the account that signed in with it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


class HmacDeviceTokens:
    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_signing_key(cls, private_key_pem: str) -> HmacDeviceTokens:
        """A key of its own, derived from the service's signing key."""
        return cls(hashlib.sha256(b"signpost device cookies\0" + private_key_pem.encode()).digest())

    def issue(self, email: str) -> str:
        device_id = secrets.token_urlsafe(16)
        return f"{device_id}.{self._mac(email, device_id)}"

    def device_of(self, token: str, email: str) -> str | None:
        device_id, _, mac = token.partition(".")
        if not device_id or not hmac.compare_digest(mac, self._mac(email, device_id)):
            return None
        return device_id

    def _mac(self, email: str, device_id: str) -> str:
        digest = hmac.new(self._key, f"{email}\0{device_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
