"""Contact preferences, SMS STOP and START, and the contacts read model, over the unit of
work in memory."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.notifications.application.contact_book import ContactBook
from services.notifications.application.ports import NewMessage, Preferences
from services.notifications.application.preferences import (
    ChoosePreferences,
    NoContactDetails,
    StartSms,
    StopSms,
    choose_preferences,
    preferences_of,
    start_sms,
    stop_sms,
)
from shared.events import Envelope, Event, EventPayload
from shared.events.directory import (
    Channel,
    ContactRole,
    ContactRoute,
    StudentErased,
    StudentUpserted,
)
from tests.unit.notifications.fakes import NOW, FakeUnitOfWork, student_route

pytestmark = pytest.mark.unit

STUDENT, PHONE = "student-1", "+447700900123"


def event(payload: EventPayload) -> Event[Any]:
    return Event(Envelope.wrap(payload, key="k", producer="booking"), payload)


def message(channel: str, *, owner: str = STUDENT, source: str = "s") -> NewMessage:
    return NewMessage(
        source=source,
        kind="reminder_same_day",
        owner_id=owner,
        route=0,
        channel=channel,
        variant="a",
        due_at=NOW,
        expires_at=NOW + timedelta(hours=2),
        context={"location": "Careers room"},
        student_id=owner,
    )


def upserted(revision: int, phone: str = PHONE, email: str = "pupil@school.example") -> Any:
    return StudentUpserted(
        student_id=STUDENT,
        school_id="school-1",
        year_group=11,
        revision=revision,
        contacts=[
            ContactRoute(
                role=ContactRole.STUDENT,
                phone=phone,
                email=email,
                sms_consent=True,
                email_consent=True,
                preferred=[Channel.SMS],
            )
        ],
    )


@pytest.fixture
def uow() -> FakeUnitOfWork:
    unit = FakeUnitOfWork()
    unit.contacts.add(STUDENT, student_route(PHONE))
    return unit


async def test_a_student_chooses_email_and_no_copies_to_parents(uow: FakeUnitOfWork) -> None:
    chosen = Preferences(channel="email", parent_copy=False, opted_out=False)
    assert await choose_preferences(ChoosePreferences(STUDENT, chosen), uow) == chosen
    assert uow.commits == 1
    assert await preferences_of(STUDENT, uow) == chosen


async def test_preferences_need_contact_details_from_the_school(uow: FakeUnitOfWork) -> None:
    chosen = Preferences(channel="sms", parent_copy=True, opted_out=True)
    with pytest.raises(NoContactDetails):
        await choose_preferences(ChoosePreferences("student-unknown", chosen), uow)
    with pytest.raises(NoContactDetails):
        await preferences_of("student-unknown", uow)
    assert uow.commits == 0


async def test_stop_withdraws_the_pending_texts_to_that_number_only(uow: FakeUnitOfWork) -> None:
    uow.contacts.add("student-2", student_route("+447700900456"))
    await uow.messages.write(
        [message("sms"), message("email"), message("sms", owner="student-2")], NOW
    )
    assert await stop_sms(StopSms(PHONE), uow) == 1
    assert uow.commits == 1
    assert await uow.contacts.sms_stopped(PHONE)
    [suppressed] = uow.messages.of(status="suppressed")
    assert (suppressed.item.owner_id, suppressed.item.channel) == (STUDENT, "sms")
    assert suppressed.error == "opted-out"
    assert len(uow.messages.of()) == 2, "the email and the other number's text still go"


async def test_stop_twice_keeps_the_first_time_and_start_lets_texts_through_again(
    uow: FakeUnitOfWork,
) -> None:
    await stop_sms(StopSms(PHONE), uow)
    uow.clock = NOW + timedelta(hours=1)
    await stop_sms(StopSms(PHONE), uow)
    assert uow.contacts.stopped[PHONE] == NOW
    await start_sms(StartSms(PHONE), uow)
    assert not await uow.contacts.sms_stopped(PHONE)
    assert uow.commits == 3


async def test_a_newer_directory_record_replaces_the_routes_and_keeps_the_students_choice() -> None:
    uow, book = FakeUnitOfWork(), ContactBook()
    await book.student(event(upserted(1)), uow)
    await uow.contacts.choose(STUDENT, Preferences("email", False, False), NOW)
    await uow.contacts.mark_undeliverable(STUDENT, 0, "sms", "invalid_address")
    await book.student(event(upserted(2, email="new@school.example")), uow)
    [route] = uow.contacts.routes_of[STUDENT]
    assert route.details.email == "new@school.example"
    assert route.sms_undeliverable == "invalid_address", "the failed number is unchanged"
    assert uow.contacts.owners[STUDENT].revision == 2
    assert await uow.contacts.preferences(STUDENT) == Preferences("email", False, False)

    await book.student(event(upserted(3, phone="+447700900789")), uow)
    [route] = uow.contacts.routes_of[STUDENT]
    assert route.sms_undeliverable is None, "a new number has not failed yet"


async def test_an_older_or_repeated_directory_record_changes_nothing() -> None:
    uow, book = FakeUnitOfWork(), ContactBook()
    await book.student(event(upserted(2)), uow)
    await book.student(event(upserted(1, phone="+447700900789")), uow)
    await book.student(event(upserted(2, phone="+447700900789")), uow)
    [route] = uow.contacts.routes_of[STUDENT]
    assert route.details.phone == PHONE


async def test_an_erased_student_leaves_no_contact_and_no_content(uow: FakeUnitOfWork) -> None:
    await uow.messages.write([message("sms")], NOW)
    await ContactBook().erased(event(StudentErased(student_id=STUDENT, school_id="school-1")), uow)
    assert await uow.contacts.owner(STUDENT) is None
    [row] = uow.messages.of(status="cancelled")
    assert row.erased and row.error == "erased" and row.item.student_id is None
