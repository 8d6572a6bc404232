"""Passwords and tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.auth.keys import generate_keypair
from shared.auth.passwords import PasswordHasher
from shared.auth.principal import Principal, Role
from shared.auth.tokens import TokenError, TokenIssuer, TokenVerifier

KEYS = generate_keypair()
OTHER_KEYS = generate_keypair()
FAST = PasswordHasher(time_cost=1, memory_cost=1024)


def issuer(ttl: timedelta = timedelta(minutes=15)) -> TokenIssuer:
    return TokenIssuer(KEYS.private_pem, issuer="signpost-booking", ttl=ttl)


def verifier(public_pem: str = KEYS.public_pem) -> TokenVerifier:
    return TokenVerifier(public_pem, issuer="signpost-booking", leeway_seconds=0)


def test_a_password_verifies_only_against_its_own_hash() -> None:
    stored = FAST.hash("correct horse")
    assert stored.startswith("$argon2id$")
    assert FAST.verify(stored, "correct horse")
    assert not FAST.verify(stored, "Correct horse")
    assert not FAST.verify("not a hash", "correct horse")


def test_a_token_carries_the_user_role_and_schools() -> None:
    token = issuer().issue(
        user_id="u1", role=Role.COORDINATOR, school_ids=["s2", "s1"], session_id="sess"
    )
    principal = verifier().verify(token)
    assert principal == Principal(
        "u1", Role.COORDINATOR, frozenset({"s1", "s2"}), session_id="sess"
    )


def test_an_expired_token_is_refused_with_a_reason() -> None:
    old = datetime.now(UTC) - timedelta(hours=1)
    token = issuer().issue(user_id="u1", role=Role.STUDENT, now=old)
    with pytest.raises(TokenError, match="expired"):
        verifier().verify(token)


def test_a_token_signed_by_another_key_is_refused() -> None:
    token = issuer().issue(user_id="u1", role=Role.ADMIN)
    with pytest.raises(TokenError):
        verifier(OTHER_KEYS.public_pem).verify(token)


def test_a_tampered_token_is_refused() -> None:
    token = issuer().issue(user_id="u1", role=Role.STUDENT)
    head, body, signature = token.split(".")
    with pytest.raises(TokenError):
        verifier().verify(f"{head}.{body[:-2]}AA.{signature}")


def test_school_scope_follows_role() -> None:
    coordinator = Principal("c", Role.COORDINATOR, frozenset({"s1"}))
    admin = Principal("a", Role.ADMIN)
    assert coordinator.acts_for_school("s1") and not coordinator.acts_for_school("s2")
    assert admin.acts_for_school("anything")


def test_guidance_records_are_for_the_student_their_school_s_staff_and_admins() -> None:
    student = Principal("st-1", Role.STUDENT, frozenset({"s1"}))
    coordinator = Principal("co-1", Role.COORDINATOR, frozenset({"s1"}))
    ebp = Principal("ebp-1", Role.EBP, frozenset({"s1", "s2"}))
    admin = Principal("ad-1", Role.ADMIN)
    assert student.sees_guidance_of("s1", "st-1")
    assert not student.sees_guidance_of("s1", "st-2")
    assert coordinator.sees_guidance_of("s1", "st-2")
    assert not coordinator.sees_guidance_of("s2", "st-3")
    assert not ebp.sees_guidance_of("s1", "st-1")  # EBP staff act for schools in placements
    assert admin.sees_guidance_of("s9", "st-9")
