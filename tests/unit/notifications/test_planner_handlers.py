"""The reminder planner's and the message planners' event handlers, over the unit of work in
memory: what rows an event leaves, and what a late or repeated one leaves alone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from services.notifications.application.contact_book import ContactBook
from services.notifications.application.planning import (
    BookingMessages,
    PlacementMessages,
    Planner,
)
from services.notifications.application.reminder_planner import AppointmentChange, ReminderPlanner
from services.notifications.domain.messages import Kind
from services.notifications.domain.reminders import ReminderPolicy
from shared.events import Envelope, Event, EventPayload
from shared.events.booking import (
    AdviserClashDetected,
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentRescheduled,
    WaitlistOfferEnded,
    WaitlistOfferMade,
)
from shared.events.directory import (
    Channel,
    ContactChecked,
    ContactRole,
    ContactRoute,
    StudentUpserted,
)
from shared.events.placements import AllocationPublished, AllocationWithdrawn
from tests.unit.notifications.fakes import NOW, FakeUnitOfWork, student_route

pytestmark = pytest.mark.unit

STUDENT, APPOINTMENT = "student-1", "appointment-1"
THURSDAY_2PM = NOW + timedelta(days=2, hours=4)
Handler = Callable[[Event[Any], Any], Awaitable[None]]


def event(payload: EventPayload) -> Event[Any]:
    return Event(Envelope.wrap(payload, key="k", producer="booking"), payload)


def appointment(
    kind: type[AppointmentChange] = AppointmentConfirmed,
    *,
    revision: int = 1,
    starts_at: datetime = THURSDAY_2PM,
) -> AppointmentChange:
    extra = {"cancelled_by": "student"} if kind is AppointmentCancelled else {}
    return kind(
        appointment_id=APPOINTMENT,
        revision=revision,
        school_id="school-1",
        student_id=STUDENT,
        adviser_id="adviser-1",
        session_type="interview",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=40),
        location="Careers room",
        **extra,
    )


class World:
    def __init__(self) -> None:
        self.uow = FakeUnitOfWork()
        self.wakes = 0
        planner = Planner(ReminderPolicy(), self.wake)
        self.reminders = ReminderPlanner(planner)
        self.booking = BookingMessages(planner)
        self.placements = PlacementMessages(planner)

    def wake(self) -> None:
        self.wakes += 1

    async def consume(self, handler: Handler, payload: EventPayload) -> None:
        """As the consumer does: the handler, then the commit."""
        await handler(event(payload), self.uow)
        await self.uow.commit()


@pytest.fixture
def world() -> World:
    w = World()
    w.uow.contacts.add(STUDENT, student_route())
    return w


async def test_a_confirmed_appointment_is_copied_with_its_reminders_and_a_confirmation(
    world: World,
) -> None:
    await world.consume(world.reminders, appointment())
    copy = world.uow.appointments.copies[APPOINTMENT]
    assert (copy.revision, copy.status, copy.starts_at) == (1, "confirmed", THURSDAY_2PM)
    assert world.uow.appointments.scheduled(APPOINTMENT) == [("day_before", 1), ("same_day", 1)]
    kinds = [m.kind for m in world.uow.messages.of(appointment_id=APPOINTMENT)]
    assert kinds == [Kind.CONFIRMATION, Kind.REMINDER_DAY_BEFORE, Kind.REMINDER_SAME_DAY]
    [confirmation] = world.uow.messages.of(kind=Kind.CONFIRMATION)
    assert (confirmation.item.channel, confirmation.item.due_at) == ("sms", NOW)
    assert world.wakes == 1, "a message due now wakes the dispatcher once committed"


async def test_an_older_revision_arriving_late_changes_nothing(world: World) -> None:
    moved = THURSDAY_2PM + timedelta(days=1)
    await world.consume(
        world.reminders, appointment(AppointmentRescheduled, revision=2, starts_at=moved)
    )
    before = dict(world.uow.messages.rows)
    await world.consume(world.reminders, appointment(revision=1))
    assert world.uow.appointments.copies[APPOINTMENT].starts_at == moved
    assert world.uow.messages.rows == before
    assert world.uow.appointments.scheduled(APPOINTMENT) == [("day_before", 2), ("same_day", 2)]


async def test_a_moved_appointment_cancels_what_was_waiting_and_plans_again(
    world: World,
) -> None:
    await world.consume(world.reminders, appointment())
    moved = THURSDAY_2PM + timedelta(days=1)
    await world.consume(
        world.reminders, appointment(AppointmentRescheduled, revision=2, starts_at=moved)
    )
    cancelled = world.uow.messages.of(status="cancelled", appointment_id=APPOINTMENT)
    assert {m.kind for m in cancelled} == {
        Kind.CONFIRMATION,
        Kind.REMINDER_DAY_BEFORE,
        Kind.REMINDER_SAME_DAY,
    }
    pending = world.uow.messages.of(appointment_id=APPOINTMENT)
    assert [m.kind for m in pending] == [
        Kind.RESCHEDULED,
        Kind.REMINDER_DAY_BEFORE,
        Kind.REMINDER_SAME_DAY,
    ]
    assert all(m.item.expires_at == moved for m in pending)
    assert world.uow.appointments.scheduled(APPOINTMENT) == [("day_before", 2), ("same_day", 2)]


async def test_a_cancelled_appointment_keeps_no_reminder_and_says_so(world: World) -> None:
    await world.consume(world.reminders, appointment())
    await world.consume(world.reminders, appointment(AppointmentCancelled, revision=2))
    assert world.uow.appointments.copies[APPOINTMENT].status == "cancelled"
    assert world.uow.appointments.scheduled(APPOINTMENT) == []
    assert [m.kind for m in world.uow.messages.of(appointment_id=APPOINTMENT)] == [Kind.CANCELLED]


async def test_a_student_who_opted_out_is_sent_nothing(world: World) -> None:
    world.uow.contacts.add(STUDENT, student_route(), opted_out=True)
    await world.consume(world.reminders, appointment())
    assert world.uow.appointments.scheduled(APPOINTMENT) == [("day_before", 1), ("same_day", 1)]
    assert world.uow.messages.rows == {}
    assert world.wakes == 0


async def test_a_parent_gets_a_copy_of_the_notices_unless_the_student_declines(
    world: World,
) -> None:
    parent = student_route("+447700900999", None, role="parent")
    world.uow.contacts.add(STUDENT, student_route(), parent)
    await world.consume(world.reminders, appointment())
    to_parent = world.uow.messages.of(route=1)
    assert [m.kind for m in to_parent] == [Kind.CONFIRMATION], "reminders go to the student only"

    world.uow.contacts.add(STUDENT, student_route(), parent, parent_copy=False)
    await world.consume(world.reminders, appointment(AppointmentCancelled, revision=2))
    assert world.uow.messages.of(route=1, kind=Kind.CANCELLED) == []


async def test_a_student_with_no_contact_details_yet_gets_reminders_but_no_messages() -> None:
    world = World()
    await world.consume(world.reminders, appointment())
    assert world.uow.appointments.scheduled(APPOINTMENT) == [("day_before", 1), ("same_day", 1)]
    assert world.uow.messages.rows == {}


def student_upserted(revision: int, student_id: str = STUDENT) -> StudentUpserted:
    return StudentUpserted(
        student_id=student_id,
        school_id="school-1",
        year_group=10,
        revision=revision,
        contacts=[
            ContactRoute(
                role=ContactRole.STUDENT,
                phone="+447700900123",
                sms_consent=True,
                preferred=[Channel.SMS],
            )
        ],
    )


async def test_contacts_arriving_after_the_appointment_bring_its_confirmation_and_reminders() -> (
    None
):
    world = World()
    book = ContactBook(world.reminders.catch_up)
    await world.consume(world.reminders, appointment())
    assert world.uow.messages.rows == {}

    await world.consume(book.student, student_upserted(revision=1))
    kinds = [m.kind for m in world.uow.messages.of(appointment_id=APPOINTMENT)]
    assert kinds == [Kind.CONFIRMATION, Kind.REMINDER_DAY_BEFORE, Kind.REMINDER_SAME_DAY]
    [confirmation] = world.uow.messages.of(kind=Kind.CONFIRMATION)
    assert (confirmation.item.channel, confirmation.item.due_at) == ("sms", NOW)

    # Later details are not a late arrival: nothing is written twice.
    await world.consume(book.student, student_upserted(revision=2))
    assert len(world.uow.messages.rows) == 3
    # And a catch-up run again writes nothing new either.
    await world.reminders.catch_up(STUDENT, world.uow)
    assert len(world.uow.messages.rows) == 3
    assert world.uow.contacts.locked.count(STUDENT) == 3, "each handler takes the student first"


async def test_a_student_first_known_without_details_is_caught_up_when_details_come() -> None:
    world = World()
    book = ContactBook(world.reminders.catch_up)
    empty = student_upserted(revision=1).model_copy(update={"contacts": []})
    await world.consume(book.student, empty)
    await world.consume(world.reminders, appointment())
    assert world.uow.messages.rows == {}
    await world.consume(book.student, student_upserted(revision=2))
    kinds = [m.kind for m in world.uow.messages.of(appointment_id=APPOINTMENT)]
    assert kinds == [Kind.CONFIRMATION, Kind.REMINDER_DAY_BEFORE, Kind.REMINDER_SAME_DAY]


async def test_a_late_arrival_catches_up_only_appointments_still_to_come_and_confirmed() -> None:
    world = World()
    book = ContactBook(world.reminders.catch_up)
    await world.consume(world.reminders, appointment(AppointmentCancelled, revision=1))
    earlier = AppointmentConfirmed(
        **{**appointment().model_dump(), "appointment_id": "appointment-past"}
        | {"starts_at": NOW - timedelta(hours=3), "ends_at": NOW - timedelta(hours=2)}
    )
    await world.consume(world.reminders, earlier)

    await world.consume(book.student, student_upserted(revision=1))
    assert world.uow.messages.rows == {}


def clash(revision: int) -> AdviserClashDetected:
    return AdviserClashDetected(
        appointment_id=APPOINTMENT,
        revision=revision,
        school_id="school-1",
        adviser_id="adviser-1",
        starts_at=THURSDAY_2PM,
        ends_at=THURSDAY_2PM + timedelta(minutes=40),
    )


async def test_a_pa_hears_of_a_clash_unless_the_appointment_has_moved_on_since(
    world: World,
) -> None:
    world.uow.contacts.add(
        "adviser-1", student_route(role="adviser", preferred=("email",)), kind="adviser"
    )
    await world.consume(world.reminders, appointment())
    await world.consume(world.booking.clash, clash(revision=1))
    [told] = world.uow.messages.of(kind=Kind.ADVISER_CLASH)
    assert (told.item.owner_id, told.item.channel) == ("adviser-1", "email")
    assert "student" not in str(told.item.context)

    moved = appointment(
        AppointmentRescheduled, revision=2, starts_at=THURSDAY_2PM + timedelta(days=1)
    )
    await world.consume(world.reminders, moved)
    late = clash(revision=1).model_copy(update={"appointment_id": APPOINTMENT})
    world.uow.messages.rows.clear()
    await world.consume(world.booking.clash, late)
    assert world.uow.messages.of(kind=Kind.ADVISER_CLASH) == [], "about a time no longer booked"


async def test_a_route_the_school_checked_is_tried_again(world: World) -> None:
    await world.uow.contacts.mark_undeliverable(STUDENT, 0, "sms", "invalid_address")
    await world.consume(world.reminders, appointment())
    assert world.uow.messages.of(channel="sms") == [], "a failing route is not used"
    checked = ContactChecked(owner_id=STUDENT, route=0, channel=Channel.SMS)
    await world.consume(ContactBook().checked, checked)
    moved = appointment(AppointmentRescheduled, revision=2)
    await world.consume(world.reminders, moved)
    assert [m.kind for m in world.uow.messages.of(channel="sms")][:1] == [Kind.RESCHEDULED]


async def test_a_waitlist_offer_is_told_at_once_and_withdrawn_when_it_ends(world: World) -> None:
    offer = WaitlistOfferMade(
        offer_id="offer-1",
        school_id="school-1",
        student_id=STUDENT,
        session_type="interview",
        starts_at=THURSDAY_2PM,
        ends_at=THURSDAY_2PM + timedelta(minutes=40),
        location="Careers room",
        expires_at=NOW + timedelta(hours=2),
    )
    await world.consume(world.booking.offer_made, offer)
    [told] = world.uow.messages.of(source="offer:offer-1")
    assert (told.kind, told.item.due_at, told.item.expires_at) == (
        Kind.WAITLIST_OFFER,
        NOW,
        NOW + timedelta(hours=2),
    )
    ended = WaitlistOfferEnded(
        offer_id="offer-1", school_id="school-1", student_id=STUDENT, outcome="declined"
    )
    await world.consume(world.booking.offer_ended, ended)
    assert world.uow.messages.of(source="offer:offer-1") == []
    assert len(world.uow.messages.of(status="cancelled", source="offer:offer-1")) == 1


async def test_a_published_placement_is_announced_and_reminded_until_withdrawn(
    world: World,
) -> None:
    published = AllocationPublished(
        round_id="round-1",
        student_id=STUDENT,
        school_id="school-1",
        placement_id="placement-1",
        employer_id="employer-1",
        sector="Health",
        week_starts=date(2027, 3, 1),
        revision=1,
    )
    await world.consume(world.placements.published, published)
    source = "placement:round-1:student-1:placement-1"
    kinds = {m.kind for m in world.uow.messages.of(source=source)}
    assert kinds == {Kind.PLACEMENT_PUBLISHED, Kind.PLACEMENT_STARTING}
    withdrawn = AllocationWithdrawn(
        **published.model_dump(exclude={"rematch", "cleared", "revision"}),
        revision=2,
        withdrawn_by="employer",
    )
    await world.consume(world.placements.withdrawn, withdrawn)
    assert world.uow.messages.of(source=source) == []
