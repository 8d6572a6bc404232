"""A student on a phone moves and cancels an appointment, takes a place a waitlist offers,
queues at today's drop-in until the PA calls them, and chooses how they are contacted on
notifications' page; a PA's no-show reaches the coordinator through notifications.

Booking and notifications run side by side (`joined_site`), on a chosen day (`site_clock`).
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.async_api import Page, expect

from services.booking.adapters.uow import BookingReads
from services.booking.application.availability import find_slots
from services.booking.application.booking import BookSlot, book_slot
from services.booking.application.cache import ReferenceCache
from services.booking.application.lifecycle import CancelAppointment, cancel_appointment
from services.booking.bootstrap import task_unit_of_work
from services.booking.demo import demo_id
from services.booking.domain.model import Role as DomainRole
from services.booking.domain.model import SessionType
from services.notifications.adapters.orm import messages
from shared.db import Database
from shared.http.pages import LONDON, local_time
from tests.browser.conftest import JoinedSite, StartedClock, assert_accessible
from tests.browser.test_staff_pages import (
    PA,
    _ashcombe_students,
    book_a_past_interview_with_the_pa,
    sign_in_as,
)
from tests.conftest import eventually

STUDENT = "student@demo.signpost.example"
ASHCOMBE = demo_id("school", 0)
COORDINATOR_ID = demo_id("coordinator", 0)
SHORT_TIME = re.compile(r"^\w{3} \d{1,2} \w{3}, \d{2}:\d{2}$")


@pytest.fixture
async def booking_db(joined_site: JoinedSite) -> AsyncIterator[Database]:
    database = Database(joined_site.booking_database)
    try:
        yield database
    finally:
        await database.dispose()


async def test_a_student_books_moves_and_cancels_an_appointment(
    phone: Page, joined_site: JoinedSite, screenshots: Path
) -> None:
    await sign_in_as(phone, joined_site.booking, STUDENT)
    await phone.get_by_role("link", name="Careers interview").click()
    await phone.get_by_role("button", name=re.compile(r"^Book ")).first.click()
    upcoming = phone.get_by_role("list", name="Upcoming appointments")
    await expect(upcoming.get_by_role("listitem")).to_have_count(1)

    await upcoming.get_by_role("link", name=re.compile("^Change the time")).click()
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Change the time")
    await assert_accessible(phone)
    await phone.screenshot(path=str(screenshots / "student-reschedule.png"), full_page=True)
    later = phone.get_by_role("button", name=re.compile(r"^Move to ")).nth(1)
    label = (await later.get_attribute("aria-label") or "").removeprefix("Move to ")
    assert SHORT_TIME.match(label), label
    form = later.locator("xpath=..")
    moved_to = datetime.fromisoformat(await form.locator("input[name=starts_at]").input_value())
    await later.click()

    await expect(phone.get_by_role("status")).to_contain_text("Your appointment has moved")
    await expect(upcoming).to_contain_text(local_time(moved_to))
    cancel = f"Cancel the appointment on {local_time(moved_to)}"
    await phone.get_by_role("button", name=cancel).click()
    await expect(phone.get_by_role("status")).to_contain_text("Your appointment is cancelled")
    await expect(phone.get_by_text("You have no careers appointments booked.")).to_be_visible()


async def _a_place_comes_free(db: Database, now: datetime) -> None:
    """Another Ashcombe student's interview is booked and then cancelled by the school."""
    (other,) = await _ashcombe_students(db, 1)
    async with db.read_session() as session:
        reads = BookingReads(session, ReferenceCache(time.monotonic))
        school = await reads.schools.get(ASHCOMBE)
        assert school is not None
        slots = await find_slots(
            reads,
            school,
            SessionType.INTERVIEW,
            now,
            now + timedelta(days=14),
            now,
            student=None,
            staff=True,
        )
    cmd = BookSlot(ASHCOMBE, SessionType.INTERVIEW, slots[0].start, other, DomainRole.COORDINATOR)
    booked = await book_slot(cmd, task_unit_of_work(db), now)
    cancel = CancelAppointment(booked.id, DomainRole.COORDINATOR, "the student is away")
    await cancel_appointment(cancel, task_unit_of_work(db), now, timedelta(hours=4))


async def test_a_student_joins_a_waitlist_and_takes_the_place_it_offers(
    phone: Page,
    joined_site: JoinedSite,
    booking_db: Database,
    site_clock: StartedClock,
    screenshots: Path,
) -> None:
    await sign_in_as(phone, joined_site.booking, STUDENT)
    waiting = phone.get_by_role("list", name="Waiting lists you are on")
    await expect(waiting).to_contain_text("Group session")  # from the demo
    await phone.get_by_label("Wait for a place at").select_option(label="careers interview")
    await phone.get_by_role("button", name="Join the waiting list").click()
    await expect(phone.get_by_role("status")).to_contain_text("You are on the waiting list")
    await expect(waiting).to_contain_text("Careers interview")

    await _a_place_comes_free(booking_db, site_clock())
    await phone.reload()
    offers = phone.get_by_role("list", name="Places offered to you")
    await expect(offers).to_contain_text("Held for you until")
    take = offers.get_by_role("button", name=re.compile("^Take the place on "))
    when = (await take.get_attribute("aria-label") or "").removeprefix("Take the place on ")
    assert SHORT_TIME.match(when), when
    await assert_accessible(phone)
    await phone.screenshot(path=str(screenshots / "student-offer.png"), full_page=True)
    await take.click()

    await expect(phone.get_by_role("status")).to_contain_text("You took the place")
    await expect(phone.get_by_role("list", name="Places offered to you")).to_have_count(0)
    await expect(phone.get_by_role("list", name="Upcoming appointments")).to_contain_text(
        when.split(", ")[1]
    )


async def test_a_student_queues_at_todays_dropin_and_is_called_by_the_pa(
    phone: Page, desk: Page, joined_site: JoinedSite, screenshots: Path
) -> None:
    await sign_in_as(phone, joined_site.booking, STUDENT)
    await phone.get_by_role("link", name="Today's drop-in queue").click()
    await phone.get_by_role("button", name="Join the queue").click()
    place = phone.get_by_role("status")
    await expect(place).to_contain_text(re.compile(r"You are number \d+ in the queue"))
    ahead = int(re.findall(r"number (\d+)", await place.inner_text())[0]) - 1
    assert ahead >= 1, "the demo's queue has students in it already"
    await assert_accessible(phone)
    await phone.screenshot(path=str(screenshots / "student-dropin.png"), full_page=True)

    await sign_in_as(desk, joined_site.booking, PA)
    await desk.get_by_role("link", name="Run the queue at Ashcombe Academy").click()
    with_pa = desk.get_by_role("list", name="With you now")
    await desk.get_by_role("button", name="Call the next student").click()
    await expect(with_pa.get_by_role("listitem")).to_have_count(1)
    await expect(place).to_contain_text(f"You are number {ahead} in the queue")  # no reload
    for called in range(2, ahead + 2):
        await desk.get_by_role("button", name="Call the next student").click()
        await expect(with_pa.get_by_role("listitem")).to_have_count(called)

    await expect(place).to_contain_text("It is your turn.")  # still no reload
    await phone.reload()
    await expect(phone.get_by_role("status")).to_contain_text("It is your turn.")
    await assert_accessible(phone)
    await phone.screenshot(path=str(screenshots / "student-dropin-turn.png"))


async def test_a_student_chooses_how_they_are_contacted_on_notifications_page(
    phone: Page, joined_site: JoinedSite, screenshots: Path
) -> None:
    await sign_in_as(phone, joined_site.booking, STUDENT)
    await phone.get_by_role("link", name="How we contact you").click()
    await expect(phone).to_have_url(f"{joined_site.notifications}/notifications/my")

    async def details_arrived() -> bool:
        await phone.reload()
        return await phone.get_by_role("button", name="Save my choices").count() > 0

    await eventually(details_arrived, timeout=30)
    await expect(phone.get_by_label("Send a copy to my parent or carer")).to_be_checked()
    await assert_accessible(phone)
    await phone.screenshot(path=str(screenshots / "notifications-my.png"), full_page=True)
    await phone.get_by_label("Email").check()
    await phone.get_by_label("Send a copy to my parent or carer").uncheck()
    await phone.get_by_role("button", name="Save my choices").click()

    await expect(phone.get_by_role("status")).to_contain_text("Your choices are saved")
    await expect(phone.get_by_label("Email")).to_be_checked()
    await expect(phone.get_by_label("Send a copy to my parent or carer")).not_to_be_checked()
    saved = await phone.request.get(f"{joined_site.notifications}/api/v1/me/contact-preferences")
    assert await saved.json() == {"channel": "email", "parent_copy": False, "opted_out": False}
    await phone.get_by_role("link", name="Back to your appointments").click()
    await expect(phone.get_by_role("heading", name="Your careers appointments")).to_be_visible()


async def test_a_pas_no_show_is_chased_with_the_coordinator_through_notifications(
    desk: Page, joined_site: JoinedSite, booking_db: Database, site_clock: StartedClock
) -> None:
    (student_id,) = await _ashcombe_students(booking_db, 1)
    booked = await book_a_past_interview_with_the_pa(booking_db, student_id, site_clock())
    day = booked.interval.start.astimezone(LONDON).date()
    async with booking_db.read_session() as session:
        reads = BookingReads(session, ReferenceCache(time.monotonic))
        label = (await reads.students.labels([student_id]))[student_id]
    who = f"{label.initials}, Year {label.year_group}"
    await sign_in_as(desk, joined_site.booking, PA)
    await desk.goto(f"{joined_site.booking}/pa?view=week&day={day.isoformat()}")
    await (
        desk.get_by_role("row")
        .filter(has_text=who)
        .get_by_role("button", name="did not come")
        .click()
    )
    await expect(desk.get_by_role("row").filter(has_text=who)).to_contain_text("Did not come")

    notifications = Database(joined_site.notifications_database)
    try:

        async def coordinator_told() -> bool:
            async with notifications.read_session() as session:
                found = await session.scalar(
                    sa.select(sa.func.count())
                    .select_from(messages)
                    .where(
                        messages.c.kind == "no_show_coordinator",
                        messages.c.owner_id == COORDINATOR_ID,
                        messages.c.appointment_id == booked.id,
                    )
                )
            return bool(found)

        await eventually(coordinator_told, timeout=30)
    finally:
        await notifications.dispose()
    outbox = await desk.request.get(f"{joined_site.notifications}/dev/outbox")
    assert "no_show_coordinator" in await outbox.text()
