"""Identity primitives every service uses: password hashes, signed tokens, roles."""

from shared.auth.principal import Principal, Role
from shared.auth.tokens import TokenError, TokenIssuer, TokenVerifier

__all__ = ["Principal", "Role", "TokenError", "TokenIssuer", "TokenVerifier"]
