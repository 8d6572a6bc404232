"""Short-lived signed tokens (JWT, EdDSA).

Booking signs with its private key; every service verifies with the public key from its
configuration, so no service calls booking to authenticate a request.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import jwt

from shared.auth.principal import Principal, Role

ALGORITHM = "EdDSA"
AUDIENCE = "signpost"
LEEWAY_SECONDS = 10


class TokenError(Exception):
    """The token is missing, malformed, expired or not signed by our issuer."""


class TokenIssuer:
    def __init__(self, private_key_pem: str, *, issuer: str, ttl: timedelta) -> None:
        self._key = private_key_pem
        self._issuer = issuer
        self.ttl = ttl

    def issue(
        self,
        *,
        user_id: str,
        role: Role,
        school_ids: Iterable[str] = (),
        ebp_id: str | None = None,
        session_id: str | None = None,
        now: datetime | None = None,
    ) -> str:
        issued = now or datetime.now(UTC)
        claims: dict[str, object] = {
            "sub": user_id,
            "role": role.value,
            "schools": sorted(school_ids),
            "iss": self._issuer,
            "aud": AUDIENCE,
            "iat": issued,
            "exp": issued + self.ttl,
            "jti": str(uuid.uuid4()),
        }
        if ebp_id:
            claims["ebp"] = ebp_id
        if session_id:
            claims["sid"] = session_id
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)


def accepted_until(issued_by: datetime, ttl: timedelta) -> datetime:
    """When the last token issued by `issued_by` stops being accepted anywhere."""
    return issued_by + ttl + timedelta(seconds=LEEWAY_SECONDS)


class TokenVerifier:
    def __init__(
        self, public_key_pem: str, *, issuer: str, leeway_seconds: int = LEEWAY_SECONDS
    ) -> None:
        self._key = public_key_pem
        self._issuer = issuer
        self._leeway = leeway_seconds

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("the token has expired; sign in again") from exc
        except jwt.PyJWTError as exc:
            raise TokenError("the token is not valid") from exc
        try:
            role = Role(claims["role"])
        except (KeyError, ValueError) as exc:
            raise TokenError("the token names no known role") from exc
        return Principal(
            user_id=str(claims["sub"]),
            role=role,
            school_ids=frozenset(str(s) for s in claims.get("schools", [])),
            ebp_id=claims.get("ebp"),
            session_id=claims.get("sid"),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )
