"""Feed tokens: 256 bits derived by HMAC-SHA256 from a stored 128-bit nonce and a key of the
service's, so the URL can be shown again while the database holds only its hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


class HmacFeedTokens:
    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_signing_key(cls, private_key_pem: str) -> HmacFeedTokens:
        """A key of its own, derived from the service's signing key (rotating that key
        therefore ends every feed URL)."""
        return cls(hashlib.sha256(b"signpost calendar feeds\0" + private_key_pem.encode()).digest())

    def new_nonce(self) -> str:
        return secrets.token_hex(16)

    def token(self, nonce: str) -> str:
        digest = hmac.new(self._key, nonce.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
