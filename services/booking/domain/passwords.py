"""What makes a new password acceptable: long enough, and not made of the account's email.

Following NCSC and NIST advice, length counts and composition rules do not: no demands for
digits or symbols, only a floor on length and a refusal of the obvious guess.
"""

from __future__ import annotations

MIN_LENGTH = 10
MAX_LENGTH = 1000


def password_problem(password: str, email: str) -> str | None:
    """Why `password` will not do for the account with `email`, or None if it will."""
    if len(password) < MIN_LENGTH:
        return f"Choose a password of at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Choose a password of at most {MAX_LENGTH} characters."
    lowered = password.casefold()
    address = email.strip().casefold()
    local = address.split("@", 1)[0]
    if address and address in lowered:
        return "Choose a password that does not contain your email address."
    if len(local) >= 3 and local in lowered:
        return "Choose a password that does not contain the name in your email address."
    return None
