"""A student on a phone signs in, books a careers interview and cancels it."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Page, expect

from services.booking.demo import DEMO_PASSWORD
from tests.browser.conftest import assert_accessible, both_databases

STUDENT = "student@demo.signpost.example"

# A main path: over PostgreSQL as well as SQLite.
pytestmark = both_databases("site_database")


async def sign_in(page: Page, site: str, password: str = DEMO_PASSWORD) -> None:
    await page.goto(f"{site}/")
    await page.get_by_label("Email address").fill(STUDENT)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def test_a_student_books_an_interview_and_cancels_it(
    phone: Page, booking_site: str, screenshots: Path
) -> None:
    await sign_in(phone, booking_site)
    await expect(phone.get_by_role("heading", name="Your careers appointments")).to_be_visible()
    await expect(phone.get_by_text("You have no careers appointments booked.")).to_be_visible()
    # Ashcombe's one adviser is in on Mondays, and for the Friday lunchtime drop-in, which the
    # site's day (Friday 6 March, 12:20) is in the middle of.
    await expect(phone.get_by_role("heading", name="Your careers adviser")).to_be_visible()
    advisers = phone.get_by_role("list", name="Your careers advisers")
    await expect(advisers.get_by_role("listitem")).to_have_count(1)
    await expect(advisers).to_contain_text("Adviser 1")
    await expect(advisers).to_contain_text("Next in school Fri 6 Mar, 12:15 to 13:15")

    await phone.get_by_role("link", name="Careers interview").click()
    await assert_accessible(phone)
    await phone.screenshot(path=str(screenshots / "student-book.png"))
    first_time = phone.get_by_role("button", name=re.compile(r"^Book ")).first
    chosen = (await first_time.get_attribute("aria-label") or "").removeprefix("Book ")
    assert re.fullmatch(r"\w+day \d{1,2} \w+, \d{2}:\d{2}", chosen), chosen
    await first_time.click()

    await expect(phone.get_by_role("status")).to_contain_text("Your appointment is booked")
    upcoming = phone.get_by_role("list", name="Upcoming appointments")
    await expect(upcoming).to_contain_text(chosen)
    await assert_accessible(phone)
    await phone.screenshot(path=str(screenshots / "student-my.png"))

    await phone.get_by_role("button", name=f"Cancel the appointment on {chosen}").click()
    await expect(phone.get_by_role("status")).to_contain_text("Your appointment is cancelled")
    await expect(phone.get_by_text("You have no careers appointments booked.")).to_be_visible()


async def test_a_wrong_password_is_explained_and_keeps_the_email(
    phone: Page, booking_site: str
) -> None:
    await sign_in(phone, booking_site, password="not-the-password")
    await expect(phone.get_by_role("alert")).to_contain_text("email address or password is wrong")
    await expect(phone.get_by_label("Email address")).to_have_value(STUDENT)


async def test_the_pages_work_from_the_keyboard(phone: Page, booking_site: str) -> None:
    await phone.goto(f"{booking_site}/sign-in")
    await assert_accessible(phone)
    await phone.keyboard.press("Tab")
    await expect(phone.get_by_role("link", name="Skip to main content")).to_be_focused()
    await phone.keyboard.press("Tab")
    await expect(phone.get_by_label("Email address")).to_be_focused()
    await phone.keyboard.type(STUDENT)
    await phone.keyboard.press("Tab")
    await phone.keyboard.type(DEMO_PASSWORD)
    await phone.keyboard.press("Enter")
    await expect(phone.get_by_role("heading", name="Your careers appointments")).to_be_visible()


async def test_a_page_is_not_shown_to_someone_signed_out(phone: Page, booking_site: str) -> None:
    await phone.goto(f"{booking_site}/my")
    await expect(phone).to_have_url(f"{booking_site}/sign-in")
