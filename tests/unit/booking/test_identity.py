"""Signing in over an in-memory account store, with the clocks injected: no database, no sleep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.booking.application.identity import (
    Identity,
    InvalidCredentials,
    TooManyAttempts,
)
from services.booking.application.ports import Account
from shared.auth.keys import generate_keypair
from shared.auth.passwords import PasswordHasher
from shared.auth.principal import Role
from shared.auth.tokens import TokenIssuer
from tests.unit.booking.fakes import FakeAccountStore

pytestmark = pytest.mark.unit

T0 = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
PUPIL = "pupil@school.example"
SCHOOL_ADDRESS = "203.0.113.9"
# The cheapest argon2id settings: these tests are about the decisions, not the hash.
HASHER = PasswordHasher(time_cost=1, memory_cost=64)
RIGHT = HASHER.hash("right")
ISSUER = TokenIssuer(generate_keypair().private_pem, issuer="test", ttl=timedelta(minutes=15))


class Clocks:
    def __init__(self) -> None:
        self.now = T0
        self.seconds = 0.0

    def advance(self, by: timedelta) -> None:
        self.now += by
        self.seconds += by.total_seconds()


def identity(clocks: Clocks, store: FakeAccountStore, *emails: str) -> Identity:
    for n, email in enumerate(emails):
        store.accounts[email] = Account(
            id=f"student-{n}",
            role=Role.STUDENT,
            school_ids=("sch-1",),
            ebp_id=None,
            active=True,
            password_hash=RIGHT,
        )
    return Identity(
        store,
        ISSUER,
        HASHER,
        session_ttl=timedelta(hours=8),
        clock=lambda: clocks.now,
        monotonic=lambda: clocks.seconds,
    )


async def test_five_wrong_passwords_lock_the_account_even_against_the_right_one() -> None:
    clocks, store = Clocks(), FakeAccountStore()
    signing = identity(clocks, store, PUPIL)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await signing.sign_in(PUPIL, "wrong", client=SCHOOL_ADDRESS)
        clocks.advance(timedelta(minutes=1))
    with pytest.raises(TooManyAttempts) as locked:
        await signing.sign_in(PUPIL, "right", client=SCHOOL_ADDRESS)
    assert locked.value.retry_after == timedelta(minutes=10)
    assert store.sessions == {}

    clocks.advance(timedelta(minutes=10))
    signed_in = await signing.sign_in(PUPIL, "right", client=SCHOOL_ADDRESS)
    assert store.sessions == {signed_in.session_id: clocks.now + timedelta(hours=8)}


async def test_pupils_sharing_the_schools_address_do_not_lock_each_other_out() -> None:
    clocks, store = Clocks(), FakeAccountStore()
    emails = [f"pupil{n}@school.example" for n in range(4)]
    signing = identity(clocks, store, *emails)
    for email in emails[:-1]:
        for _ in range(3):
            with pytest.raises(InvalidCredentials):
                await signing.sign_in(email, "wrong", client=SCHOOL_ADDRESS)
    signed_in = await signing.sign_in(emails[-1], "right", client=SCHOOL_ADDRESS)
    assert signed_in.account_id == "student-3"


async def test_an_unknown_email_counts_as_a_failure_like_a_wrong_password() -> None:
    clocks, store = Clocks(), FakeAccountStore()
    signing = identity(clocks, store)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await signing.sign_in("nobody@school.example", "guess")
    with pytest.raises(TooManyAttempts):
        await signing.sign_in("nobody@school.example", "guess")


async def test_an_active_session_is_remembered_for_five_seconds_and_sign_out_forgets_it() -> None:
    clocks, store = Clocks(), FakeAccountStore()
    signing = identity(clocks, store, PUPIL)
    session_id = (await signing.sign_in(PUPIL, "right")).session_id
    assert await signing.session_active(session_id)
    assert store.reads == 0  # remembered from the sign-in
    clocks.advance(timedelta(seconds=5))
    assert await signing.session_active(session_id)
    assert store.reads == 1
    await signing.sign_out(session_id)
    assert not await signing.session_active(session_id)


async def test_a_session_past_its_end_is_no_longer_active() -> None:
    clocks, store = Clocks(), FakeAccountStore()
    signing = identity(clocks, store, PUPIL)
    session_id = (await signing.sign_in(PUPIL, "right")).session_id
    clocks.advance(timedelta(hours=8))
    assert not await signing.session_active(session_id)
