"""PAs and coordinators at their desks: their own homes, the PA's day, attendance and its
chase, the drop-in queue, and the PA's calendars.

The site runs on a chosen day (`site_clock`), so the past interviews and next drop-ins these
tests need are there whatever today's date is."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, FilePayload, Page, expect

from services.booking.adapters.uow import BookingReads
from services.booking.application import dropins
from services.booking.application.availability import find_slots
from services.booking.application.booking import BookSlot, book_slot
from services.booking.application.cache import ReferenceCache
from services.booking.application.ports import DropInSession, StudentLabel
from services.booking.bootstrap import task_unit_of_work
from services.booking.demo import DEMO_PASSWORD, demo_id
from services.booking.demo_live import a_contact_to_check
from services.booking.domain.appointments import Appointment
from services.booking.domain.model import Role as DomainRole
from services.booking.domain.model import SessionType
from services.booking.settings import BookingSettings
from shared.db import Database
from shared.http.pages import LONDON
from tests.browser.conftest import StartedClock, assert_accessible
from tests.conftest import eventually

PA = "adviser@demo.signpost.example"
COORDINATOR = "coordinator@demo.signpost.example"
PA_ID = demo_id("adviser", 0)
ASHCOMBE = demo_id("school", 0)


@pytest.fixture
async def db(booking_settings: BookingSettings) -> AsyncIterator[Database]:
    database = Database(booking_settings.database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def sign_in_as(page: Page, site: str, email: str) -> None:
    await page.goto(f"{site}/sign-in")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


def _reads(session: object) -> BookingReads:
    return BookingReads(session, ReferenceCache(time.monotonic))  # type: ignore[arg-type]


async def _ashcombe_students(db: Database, n: int) -> list[str]:
    """`n` students at Ashcombe with nothing booked (earlier tests book some)."""
    async with db.read_session() as session:
        reads = _reads(session)
        roll = sorted(s.student_id for s in await reads.students.of_school(ASHCOMBE))
        free = [s for s in roll if not await reads.appointments.of_student(s)]
    return free[-n:]


async def book_a_past_interview_with_the_pa(
    db: Database, student_id: str, now: datetime
) -> Appointment:
    """An interview the demo PA held at Ashcombe in the fortnight before `now`, booked
    beforehand."""
    then = now - timedelta(days=15)
    async with db.read_session() as session:
        reads = _reads(session)
        school = await reads.schools.get(ASHCOMBE)
        assert school is not None
        slots = await find_slots(
            reads, school, SessionType.INTERVIEW, then, now, then, student=None, staff=True
        )
    slot = next(s for s in slots if PA_ID in s.adviser_ids and s.end < now)
    cmd = BookSlot(
        ASHCOMBE, SessionType.INTERVIEW, slot.start, student_id, DomainRole.COORDINATOR, PA_ID
    )
    return await book_slot(cmd, task_unit_of_work(db), then)


async def students_wait_at_the_pas_next_dropin(
    db: Database, student_ids: list[str], today: date
) -> DropInSession:
    """The PA's first drop-in at Ashcombe in the fortnight after `today`, with these students
    waiting in it."""
    async with db.read_session() as session:
        reads = _reads(session)
        found = [
            s
            for n in range(1, 15)
            for s in await dropins.planned(reads.schools, ASHCOMBE, today + timedelta(days=n))
            if s.adviser_id == PA_ID
        ]
        stored = await reads.dropins.stored([s.id for s in found])
    await dropins.store_sessions(found, stored, task_unit_of_work(db))
    first = found[0]
    for n, student_id in enumerate(student_ids):
        cmd = dropins.JoinQueue(first.id, student_id)
        await dropins.join_queue(cmd, task_unit_of_work(db), first.starts_at + timedelta(minutes=n))
    return first


async def test_a_pa_on_a_phone_reads_their_week(
    browser: Browser, booking_site: str, db: Database, site_clock: StartedClock
) -> None:
    phone = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="en-GB"
    )
    try:
        page = await phone.new_page()
        (student_id,) = await _ashcombe_students(db, 1)
        booked = await book_a_past_interview_with_the_pa(db, student_id, site_clock())
        day = booked.interval.start.astimezone(LONDON).date()
        await sign_in_as(page, booking_site, PA)
        await page.goto(f"{booking_site}/pa?view=week&day={day.isoformat()}")
        row = page.get_by_role("row").filter(has_text="Careers interview").first
        await expect(row.get_by_role("button", name="attended")).to_be_visible()
        box = await row.bounding_box()
        assert box is not None and box["width"] <= 390, "the week fits a phone's width"
        await assert_accessible(page)
    finally:
        await phone.close()


@pytest.mark.parametrize(
    ("email", "heading"),
    [
        (PA, "Your day:"),
        (COORDINATOR, "Careers at Ashcombe Academy"),
        ("admin@demo.signpost.example", "The directory at a glance"),
    ],
)
async def test_each_staff_role_lands_on_its_own_home(
    desk: Page, booking_site: str, email: str, heading: str
) -> None:
    await sign_in_as(desk, booking_site, email)
    await expect(desk.get_by_role("heading", level=1)).to_contain_text(heading)
    await expect(desk.get_by_text("These pages are for students")).to_have_count(0)
    await desk.goto(f"{booking_site}/my")
    await expect(desk.get_by_role("heading", level=1)).to_contain_text(heading)


async def test_a_pa_marks_a_no_show_and_the_coordinator_sees_it_to_chase(
    desk: Page, booking_site: str, db: Database, screenshots: Path, site_clock: StartedClock
) -> None:
    (student_id,) = await _ashcombe_students(db, 1)
    booked = await book_a_past_interview_with_the_pa(db, student_id, site_clock())
    day = booked.interval.start.astimezone(LONDON).date()
    async with db.read_session() as session:
        label = (await _reads(session).students.labels([student_id]))[student_id]
    who = f"{label.initials}, Year {label.year_group}"

    await sign_in_as(desk, booking_site, PA)
    await desk.goto(f"{booking_site}/pa?view=week&day={day.isoformat()}")
    row = desk.get_by_role("row").filter(has_text=who)
    await expect(row).to_contain_text("Ashcombe Academy")
    await expect(row).to_contain_text("Careers interview")
    assert label.display_name and label.display_name not in await desk.content()
    await assert_accessible(desk)
    await desk.screenshot(path=str(screenshots / "pa-week.png"), full_page=True)
    await row.get_by_role("button", name="did not come").click()
    await expect(desk).to_have_url(re.compile(r"/pa\?view=week&day=\d{4}-\d\d-\d\d$"))
    await expect(desk.get_by_role("row").filter(has_text=who)).to_contain_text("Did not come")
    await desk.get_by_role("link", name=f"Record of {label.initials}").first.click()
    await expect(desk.get_by_role("heading", level=1)).to_have_text(label.display_name)
    await assert_accessible(desk)
    await desk.screenshot(path=str(screenshots / "pa-record.png"))

    await desk.get_by_role("button", name="Sign out").click()
    await sign_in_as(desk, booking_site, COORDINATOR)
    chase = desk.get_by_role("table", name="No-shows to chase")
    await expect(chase).to_contain_text(who)
    await assert_accessible(desk)
    await desk.screenshot(path=str(screenshots / "coordinator-home.png"), full_page=True)


async def test_a_pa_calls_the_next_student_marks_one_seen_and_skips_one(
    desk: Page, booking_site: str, db: Database, screenshots: Path, site_clock: StartedClock
) -> None:
    async with db.read_session() as reads_session:
        roll = await _ashcombe_students(db, 40)
        labels = await _reads(reads_session).students.labels(roll)
    by_who = {f"{s.initials}, Year {s.year_group}": s.id for s in labels.values()}
    (first, first_id), (second, second_id) = sorted(by_who.items())[:2]
    session = await students_wait_at_the_pas_next_dropin(
        db, [first_id, second_id], site_clock.today()
    )
    day = session.starts_at.astimezone(LONDON).date()

    await sign_in_as(desk, booking_site, PA)
    await desk.goto(f"{booking_site}/pa?day={day.isoformat()}")
    await desk.get_by_role("link", name="Run the queue at Ashcombe Academy").click()
    waiting = desk.get_by_role("list", name="Waiting")
    await expect(waiting.get_by_role("listitem")).to_have_count(2)
    await expect(waiting.get_by_role("listitem").first).to_contain_text(first)
    await desk.get_by_role("button", name="Call the next student").click()
    await expect(desk.get_by_role("list", name="With you now")).to_contain_text(first)
    await expect(waiting).to_contain_text(second)
    await assert_accessible(desk)
    await desk.screenshot(path=str(screenshots / "pa-queue.png"))
    await desk.get_by_role("button", name=f"{first}: seen").click()
    await expect(desk.get_by_text("Nobody is with you.")).to_be_visible()

    await desk.get_by_role("button", name="Call the next student").click()
    await expect(desk.get_by_role("list", name="With you now")).to_contain_text(second)
    await desk.get_by_role("button", name=f"{second}: did not come, skip").click()
    await expect(desk.get_by_text("Nobody is with you.")).to_be_visible()
    await expect(desk.get_by_text("Nobody is waiting.")).to_be_visible()
    await desk.get_by_role("button", name="Call the next student").click()
    await expect(desk.get_by_role("status")).to_contain_text("Nobody is waiting.")


async def test_a_pa_makes_a_feed_link_sees_it_fetched_and_registers_a_calendar(
    desk: Page, booking_site: str, screenshots: Path
) -> None:
    await sign_in_as(desk, booking_site, PA)
    await desk.get_by_role("link", name="My calendars").click()
    await desk.get_by_role("button", name="Make my feed link").click()
    await expect(desk.get_by_role("status").first).to_contain_text("new feed link")
    await expect(desk.get_by_text("No calendar app has fetched it yet.")).to_be_visible()
    url = await desk.get_by_label("Your feed link").input_value()
    await desk.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await desk.get_by_role("button", name="Copy the link").click()
    await expect(desk.get_by_text("Copied.")).to_be_visible()
    assert await desk.evaluate("navigator.clipboard.readText()") == url
    fetched = await desk.request.get(url)
    assert fetched.ok and "BEGIN:VCALENDAR" in await fetched.text()
    await desk.reload()
    await expect(desk.get_by_text("Your calendar app last fetched it")).to_be_visible()
    await desk.get_by_role("button", name="Make a new link (the old one stops working)").click()
    renewed = await desk.get_by_label("Your feed link").input_value()
    assert renewed != url
    assert (await desk.request.get(url)).status == 404
    assert (await desk.request.get(renewed)).ok

    await desk.get_by_label("Your calendar's ICS link").fill("not a link")
    await desk.get_by_role("button", name="Register my calendar").click()
    await expect(desk.get_by_role("alert")).to_contain_text("Enter your calendar's ICS link")
    await desk.get_by_label("Your calendar's ICS link").fill("https://calendar.invalid/me.ics")
    await desk.get_by_role("button", name="Register my calendar").click()
    await expect(desk.get_by_role("status").first).to_contain_text("Your calendar is registered")
    await expect(
        desk.get_by_text(re.compile(r"^Registered \w{3} \d+ \w{3}, \d\d:\d\d"))
    ).to_be_visible()

    async def failure_shown() -> bool:
        await desk.reload()
        return await desk.get_by_text("it failed").count() > 0

    await eventually(failure_shown)
    await assert_accessible(desk)
    await desk.screenshot(path=str(screenshots / "pa-calendars.png"))


async def _a_year_11_with_nothing_booked(db: Database) -> StudentLabel:
    async with db.read_session() as session:
        reads = _reads(session)
        roll = [s.student_id for s in await reads.students.of_school(ASHCOMBE)]
        labels = await reads.students.labels(roll)
        for label in sorted(labels.values(), key=lambda s: s.id):
            if label.year_group == 11 and not await reads.appointments.of_student(label.id):
                return label
    raise AssertionError("the demo has no Year 11 student at Ashcombe without appointments")


async def test_a_coordinator_books_a_referral_and_sees_coverage_change(
    desk: Page, booking_site: str, db: Database, screenshots: Path
) -> None:
    student = await _a_year_11_with_nothing_booked(db)
    assert student.display_name
    await sign_in_as(desk, booking_site, COORDINATOR)
    await desk.get_by_role("link", name="Coverage").click()
    figures = desk.get_by_role("table", name=re.compile("Students promised an interview"))
    booked_before = int(await figures.get_by_role("cell").nth(1).inner_text())
    not_yet_before = int(await figures.get_by_role("cell").nth(2).inner_text())
    await assert_accessible(desk)
    await desk.screenshot(path=str(screenshots / "coordinator-coverage.png"), full_page=True)

    await desk.get_by_role("link", name="Find a student").click()
    await desk.get_by_label("Name or school reference").fill(student.display_name.split()[1])
    await desk.get_by_role("button", name="Search").click()
    await desk.get_by_role("link", name=f"Book a referral for {student.display_name}").click()
    await desk.get_by_role("button", name="Book the referral").click()
    await expect(desk.get_by_role("alert")).to_contain_text("Choose a time from the list")
    await desk.get_by_label("Reason for the referral").fill("Worried about post-16 plans")
    await desk.get_by_label("How urgent").select_option("urgent")
    await desk.get_by_role("radio").first.check()
    await assert_accessible(desk)
    await desk.screenshot(path=str(screenshots / "coordinator-referral.png"), full_page=True)
    await desk.get_by_role("button", name="Book the referral").click()

    await expect(desk.get_by_role("status")).to_contain_text("The referral is booked")
    who = f"{student.initials}, Year 11"
    row = desk.get_by_role("row").filter(has_text=who).filter(has_text="Referral")
    await row.get_by_role("link").click()
    await expect(desk.get_by_role("heading", level=1)).to_have_text(student.display_name)
    await expect(desk.get_by_text("Urgent: Worried about post-16 plans")).to_be_visible()

    await desk.goto(f"{booking_site}/coordinator/coverage")
    figures = desk.get_by_role("table", name=re.compile("Students promised an interview"))
    await expect(figures.get_by_role("cell").nth(1)).to_have_text(str(booked_before + 1))
    await expect(figures.get_by_role("cell").nth(2)).to_have_text(str(not_yet_before - 1))


def _csv(text: str) -> FilePayload:
    return {"name": "roster.csv", "mimeType": "text/csv", "buffer": text.encode()}


async def test_a_roster_with_mistakes_is_refused_with_every_fault_by_line_and_field(
    desk: Page, booking_site: str, screenshots: Path
) -> None:
    other_school = demo_id("school", 1)
    faulty = (
        "school_id,reference,year_group,display_name\n"
        f"{ASHCOMBE},N001,14,Zara Newton\n"
        f"{other_school},N002,9,Omar Field\n"
        f"{ASHCOMBE},,10,Lily Stone\n"
    )
    await sign_in_as(desk, booking_site, COORDINATOR)
    await desk.get_by_role("link", name="Upload the roster").click()
    await desk.get_by_label("Roster file (CSV)").set_input_files(files=_csv(faulty))
    await desk.get_by_role("button", name="Upload the roster").click()
    await expect(desk.get_by_role("alert")).to_contain_text("3 problems to fix")
    faults = desk.get_by_role("table", name="Problems in the file")
    await expect(faults.get_by_role("row").filter(has_text="year_group")).to_contain_text("2")
    await expect(faults.get_by_role("row").filter(has_text="school_id")).to_contain_text("3")
    await expect(faults.get_by_role("row").filter(has_text="reference")).to_contain_text("4")
    await assert_accessible(desk)
    await desk.screenshot(path=str(screenshots / "coordinator-roster.png"), full_page=True)

    fixed = f"school_id,reference,year_group,display_name\n{ASHCOMBE},N001,10,Zara Newton\n"
    await desk.get_by_label("Roster file (CSV)").set_input_files(files=_csv(fixed))
    await desk.get_by_role("button", name="Upload the roster").click()
    await expect(desk.get_by_role("status")).to_contain_text("The roster is loaded: 1 students")
    await desk.get_by_role("link", name="Find a student").click()
    await desk.get_by_label("Name or school reference").fill("Newton")
    await desk.get_by_role("button", name="Search").click()
    await expect(desk.get_by_role("list", name="Students found")).to_contain_text("Zara Newton")


async def test_a_coordinator_reads_the_partnership_agreement_as_agreed(
    desk: Page, booking_site: str, screenshots: Path
) -> None:
    await sign_in_as(desk, booking_site, COORDINATOR)
    await desk.get_by_role("link", name="Partnership Agreement").click()
    await expect(desk.get_by_role("heading", level=1)).to_contain_text("Partnership Agreement")
    pas = desk.get_by_role("table").first
    await expect(pas.get_by_role("row").filter(has_text="Mondays")).to_contain_text(
        "Careers interview"
    )
    await expect(pas.get_by_role("row").filter(has_text="Fridays")).to_contain_text(
        "12:15 to 13:15"
    )
    await expect(
        desk.get_by_text("Every student in Year 11 has a careers interview by")
    ).to_be_visible()
    await assert_accessible(desk)
    await desk.screenshot(path=str(screenshots / "coordinator-agreement.png"), full_page=True)


async def test_a_coordinator_sees_contact_details_to_check_and_dismisses_one(
    desk: Page, booking_site: str, db: Database, site_clock: StartedClock, screenshots: Path
) -> None:
    [student_id] = await _ashcombe_students(db, 1)
    await a_contact_to_check(db, ASHCOMBE, student_id, site_clock(), role="parent", route=1)
    async with db.read_session() as session:
        label = (await _reads(session).students.labels([student_id]))[student_id]

    await sign_in_as(desk, booking_site, COORDINATOR)
    alerts = desk.get_by_role("table", name="Contact details to check")
    row = alerts.get_by_role("row").filter(has_text=f"Year {label.year_group}, {label.reference}")
    await expect(row).to_contain_text(f"{label.initials}, Year {label.year_group}")
    await expect(row).to_contain_text("A parent's details")
    await expect(row).to_contain_text("The number or address does not exist")
    await assert_accessible(desk)
    await desk.screenshot(path=str(screenshots / "coordinator-contact-alerts.png"), full_page=True)
    html = await desk.content()
    assert label.display_name is None or label.display_name not in html, "initials only"

    await row.get_by_role("button", name=re.compile("^Dismiss the alert")).click()
    await expect(desk.get_by_role("status")).to_contain_text("The alert is dismissed")
    await expect(row).to_have_count(0)
    await expect(alerts.locator("tbody tr")).to_have_count(1)  # the demo's own alert stays
