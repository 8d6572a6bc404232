"""Signing in over an in-memory account store, with the clocks injected: no database, no sleep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.booking.adapters.device_tokens import HmacDeviceTokens
from services.booking.application.identity import (
    AccountDisabled,
    Identity,
    InvalidCredentials,
    OwnAccount,
    TooManyAttempts,
    UnacceptablePassword,
    UnknownAccount,
    WrongPassword,
)
from services.booking.application.ports import Account
from shared.auth.keys import generate_keypair
from shared.auth.passwords import PasswordHasher
from shared.auth.principal import Principal, Role
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
            email=email,
        )
    return Identity(
        store,
        ISSUER,
        HASHER,
        HmacDeviceTokens(b"test device key"),
        session_ttl=timedelta(hours=8),
        clock=lambda: clocks.now,
        monotonic=lambda: clocks.seconds,
    )


async def test_wrong_passwords_slow_the_pair_down_twice_as_long_each_time_and_never_lock() -> None:
    clocks, store = Clocks(), FakeAccountStore()
    signing = identity(clocks, store, PUPIL)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await signing.sign_in(PUPIL, "wrong", client=SCHOOL_ADDRESS)
    waits = []
    for _ in range(9):
        with pytest.raises(TooManyAttempts) as slowed:
            await signing.sign_in(PUPIL, "right", client=SCHOOL_ADDRESS)
        waits.append(slowed.value.retry_after)
        clocks.advance(slowed.value.retry_after)
        with pytest.raises(InvalidCredentials):
            await signing.sign_in(PUPIL, "wrong", client=SCHOOL_ADDRESS)
    assert waits == [timedelta(seconds=s) for s in (2, 4, 8, 16, 32, 64, 128, 256, 300)]
    assert store.sessions == {}
    with pytest.raises(TooManyAttempts) as slowed:
        await signing.sign_in(PUPIL, "right", client=SCHOOL_ADDRESS)
    clocks.advance(slowed.value.retry_after)
    signed_in = await signing.sign_in(PUPIL, "right", client=SCHOOL_ADDRESS)
    assert store.sessions == {signed_in.session_id: clocks.now + timedelta(hours=8)}


async def test_one_pupil_behind_the_schools_address_cannot_lock_out_the_schools_accounts() -> None:
    clocks, store = Clocks(), FakeAccountStore()
    emails = [f"pupil{n}@school.example" for n in range(20)]
    signing = identity(clocks, store, *emails)
    for email in emails[1:]:
        for _ in range(5):
            with pytest.raises(InvalidCredentials):
                await signing.sign_in(email, "wrong", client=SCHOOL_ADDRESS)
    for n in range(25):  # made-up emails too, just under the ceiling
        with pytest.raises(InvalidCredentials):
            await signing.sign_in(f"made-up-{n}@school.example", "guess", client=SCHOOL_ADDRESS)
    signed_in = await signing.sign_in(emails[0], "right", client=SCHOOL_ADDRESS)
    assert signed_in.account_id == "student-0"


async def test_five_wrong_passwords_from_anywhere_leave_the_owners_known_device_in() -> None:
    clocks, store = Clocks(), FakeAccountStore()
    signing = identity(clocks, store, PUPIL)
    device = (await signing.sign_in(PUPIL, "right", client=SCHOOL_ADDRESS)).device_token
    for address in (SCHOOL_ADDRESS, "198.51.100.7"):
        for _ in range(10):
            with pytest.raises((InvalidCredentials, TooManyAttempts)):
                await signing.sign_in(PUPIL, "wrong", client=address)
    again = await signing.sign_in(PUPIL, "right", client=SCHOOL_ADDRESS, device=device)
    assert again.device_token == device
    with pytest.raises(TooManyAttempts):
        await signing.sign_in(PUPIL, "right", client=SCHOOL_ADDRESS)  # no cookie: slowed


async def test_a_device_cookie_counts_only_for_the_account_that_signed_in_with_it() -> None:
    clocks, store = Clocks(), FakeAccountStore()
    signing = identity(clocks, store, PUPIL, "other@school.example")
    device = (await signing.sign_in(PUPIL, "right", client=SCHOOL_ADDRESS)).device_token
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await signing.sign_in("other@school.example", "wrong", client=SCHOOL_ADDRESS)
    with pytest.raises(TooManyAttempts):
        await signing.sign_in("other@school.example", "right", client=SCHOOL_ADDRESS, device=device)


async def test_made_up_emails_from_one_address_hit_the_ceiling_but_real_accounts_sign_in() -> None:
    clocks, store = Clocks(), FakeAccountStore()
    signing = identity(clocks, store, PUPIL)
    for n in range(30):
        with pytest.raises(InvalidCredentials):
            await signing.sign_in(f"nobody{n}@school.example", "guess", client=SCHOOL_ADDRESS)
    with pytest.raises(TooManyAttempts) as ceiling:
        await signing.sign_in("nobody-else@school.example", "guess", client=SCHOOL_ADDRESS)
    assert ceiling.value.retry_after == timedelta(minutes=15)
    with pytest.raises(TooManyAttempts):  # a wrong password looks the same past the ceiling
        await signing.sign_in(PUPIL, "wrong", client=SCHOOL_ADDRESS)
    with pytest.raises(InvalidCredentials):
        await signing.sign_in("nobody-else@school.example", "guess", client="198.51.100.7")
    assert (await signing.sign_in(PUPIL, "right", client=SCHOOL_ADDRESS)).account_id == "student-0"


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


def signed(session_id: str, user_id: str = "student-0") -> Principal:
    return Principal(
        user_id=user_id, role=Role.STUDENT, school_ids=frozenset({"sch-1"}), session_id=session_id
    )


async def test_a_password_change_needs_the_current_password_and_ends_the_other_sessions() -> None:
    clocks, store = Clocks(), FakeAccountStore()
    signing = identity(clocks, store, PUPIL)
    here = await signing.sign_in(PUPIL, "right", client=SCHOOL_ADDRESS)
    elsewhere = await signing.sign_in(PUPIL, "right", client="198.51.100.7")
    assert await signing.session_active(elsewhere.session_id)
    with pytest.raises(WrongPassword):
        await signing.change_password(signed(here.session_id), "wrong", "a long new passphrase")
    for weak in ("short", "pupil-and-more-words", "x pupil@school.example x"):
        with pytest.raises(UnacceptablePassword):
            await signing.change_password(signed(here.session_id), "right", weak)
    assert store.ended == []

    ended = await signing.change_password(signed(here.session_id), "right", "a long new passphrase")
    assert ended == 1
    assert store.ended == [(elsewhere.session_id, "password_changed")]
    assert not await signing.session_active(elsewhere.session_id), "forgotten at once"
    assert await signing.session_active(here.session_id)
    with pytest.raises(InvalidCredentials):
        await signing.sign_in(PUPIL, "right", client=SCHOOL_ADDRESS)
    assert await signing.sign_in(PUPIL, "a long new passphrase", client=SCHOOL_ADDRESS)


async def test_wrong_current_passwords_slow_down_a_stolen_session() -> None:
    clocks, store = Clocks(), FakeAccountStore()
    signing = identity(clocks, store, PUPIL)
    here = await signing.sign_in(PUPIL, "right", client=SCHOOL_ADDRESS)
    for _ in range(5):
        with pytest.raises(WrongPassword):
            await signing.change_password(signed(here.session_id), "guess", "a long new passphrase")
    with pytest.raises(TooManyAttempts):
        await signing.change_password(signed(here.session_id), "right", "a long new passphrase")


async def test_a_disabled_account_is_told_so_whatever_the_password_and_its_sessions_end() -> None:
    clocks, store = Clocks(), FakeAccountStore()
    signing = identity(clocks, store, PUPIL)
    session = await signing.sign_in(PUPIL, "right", client=SCHOOL_ADDRESS)
    admin = Principal(user_id="admin-1", role=Role.ADMIN, session_id="s-admin")
    with pytest.raises(OwnAccount):
        await signing.set_active(admin, "admin-1", False)
    with pytest.raises(UnknownAccount):
        await signing.set_active(admin, "nobody", False)

    status = await signing.set_active(admin, "student-0", False)
    assert (status.active, status.sessions_ended) == (False, 1)
    assert store.ended == [(session.session_id, "account_disabled")]
    assert not await signing.session_active(session.session_id)
    for password in ("right", "wrong"):
        with pytest.raises(AccountDisabled):
            await signing.sign_in(PUPIL, password, client=SCHOOL_ADDRESS)

    await signing.set_active(admin, "student-0", True)
    assert await signing.sign_in(PUPIL, "right", client=SCHOOL_ADDRESS)


async def test_signing_out_everywhere_ends_every_session_and_last_seen_is_written_sparingly() -> (
    None
):
    clocks, store = Clocks(), FakeAccountStore()
    signing = identity(clocks, store, PUPIL)
    first = await signing.sign_in(PUPIL, "right", client=SCHOOL_ADDRESS)
    clocks.advance(timedelta(seconds=6))
    assert await signing.session_active(first.session_id)
    assert first.session_id not in store.seen_at, "seen at sign-in, a minute ago at most"
    clocks.advance(timedelta(seconds=61))
    assert await signing.session_active(first.session_id)
    assert store.seen_at[first.session_id] == clocks.now

    second = await signing.sign_in(PUPIL, "right", client=SCHOOL_ADDRESS)
    assert await signing.sign_out_everywhere("student-0") == 2
    assert {sid for sid, _ in store.ended} == {first.session_id, second.session_id}
    assert {why for _, why in store.ended} == {"signed_out_everywhere"}
    with pytest.raises(UnknownAccount):
        await signing.sign_out_everywhere("nobody")
