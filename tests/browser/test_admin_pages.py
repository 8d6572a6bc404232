"""The admin at their desk: the directory at a glance, who is signed in (students by school
and year only), disabling an account whose open page is then refused, and every person's
password change."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.async_api import Browser, BrowserContext, Page, expect

from services.booking.adapters.orm import students
from services.booking.demo import DEMO_PASSWORD
from services.booking.settings import BookingSettings
from shared.db import Database
from tests.browser.conftest import assert_accessible

ADMIN = "admin@demo.signpost.example"
COORDINATOR = "coordinator@demo.signpost.example"
STUDENT = "student@demo.signpost.example"
PA = "adviser@demo.signpost.example"
DISABLED = "This account is disabled"


@pytest.fixture
async def contexts(browser: Browser) -> AsyncIterator[list[BrowserContext]]:
    """Separate browsers (cookie jars) for the admin and the people they look after."""
    opened: list[BrowserContext] = []
    try:
        yield opened
    finally:
        for context in opened:
            await context.close()


async def desk(browser: Browser, contexts: list[BrowserContext]) -> Page:
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="Europe/London"
    )
    contexts.append(context)
    return await context.new_page()


async def sign_in(page: Page, site: str, email: str, password: str = DEMO_PASSWORD) -> None:
    await page.goto(f"{site}/sign-in")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def student_names(settings: BookingSettings) -> list[str]:
    db = Database(settings.database_url)
    try:
        async with db.read_session() as s:
            names = (await s.execute(sa.select(students.c.display_name))).scalars()
            return [n for n in names if n]
    finally:
        await db.dispose()


async def assert_no_student_named(page: Page, settings: BookingSettings) -> None:
    text = await page.locator("main").inner_text()
    named = [n for n in await student_names(settings) if n in text]
    assert not named, f"students named on {page.url}: {named[:3]}"


async def test_the_admin_reads_the_directory_at_a_glance(
    browser: Browser,
    contexts: list[BrowserContext],
    booking_site: str,
    booking_settings: BookingSettings,
    screenshots: Path,
) -> None:
    admin = await desk(browser, contexts)
    await sign_in(admin, booking_site, ADMIN)
    await expect(admin).to_have_url(f"{booking_site}/admin")
    await expect(admin.get_by_role("heading", level=1)).to_have_text("The directory at a glance")
    schools = admin.get_by_role("table", name="Schools")
    ashcombe = schools.get_by_role("row").filter(has_text="Ashcombe Academy")
    await expect(ashcombe).to_have_count(1)
    await expect(ashcombe.get_by_role("cell").first).to_have_text(re.compile(r"^\d+$"))
    await expect(admin.get_by_role("table", name="Personal Advisers")).to_contain_text("Adviser 1")
    await assert_no_student_named(admin, booking_settings)
    await assert_accessible(admin)
    await admin.screenshot(path=str(screenshots / "admin-directory.png"), full_page=True)


async def test_the_admin_disables_an_account_and_its_open_page_is_refused(
    browser: Browser,
    contexts: list[BrowserContext],
    booking_site: str,
    booking_settings: BookingSettings,
    screenshots: Path,
) -> None:
    coordinator, student, admin = [await desk(browser, contexts) for _ in range(3)]
    await sign_in(coordinator, booking_site, COORDINATOR)
    await expect(coordinator).to_have_url(f"{booking_site}/coordinator")
    await sign_in(student, booking_site, STUDENT)
    await expect(student).to_have_url(f"{booking_site}/my")
    await sign_in(admin, booking_site, ADMIN)
    await admin.get_by_role("link", name="Who is signed in").click()

    sessions = admin.get_by_role("table", name="Open sessions")
    await expect(sessions.get_by_role("row").filter(has_text=COORDINATOR)).not_to_have_count(0)
    pupil = sessions.get_by_role("row").filter(has_text="Year 11 student")
    await expect(pupil.first).to_contain_text("Ashcombe Academy")
    await expect(sessions).not_to_contain_text(STUDENT)
    await assert_no_student_named(admin, booking_settings)
    await assert_accessible(admin)
    await admin.screenshot(path=str(screenshots / "admin-sessions.png"), full_page=True)

    await admin.get_by_role("button", name=f"Disable the account: {COORDINATOR}").first.click()
    await expect(admin.get_by_role("status")).to_contain_text("The account is disabled")
    await expect(sessions.get_by_role("row").filter(has_text=COORDINATOR)).to_have_count(0)
    disabled = admin.get_by_role("table", name="Disabled accounts")
    await expect(disabled).to_contain_text(COORDINATOR)

    await coordinator.reload()
    await expect(coordinator).to_have_url(f"{booking_site}/sign-in")
    await sign_in(coordinator, booking_site, COORDINATOR)
    await expect(coordinator.get_by_role("alert")).to_contain_text(DISABLED)
    await sign_in(coordinator, booking_site, COORDINATOR, "not the password")
    await expect(coordinator.get_by_role("alert")).to_contain_text(DISABLED)
    await assert_accessible(coordinator)

    await student.reload()
    await expect(student).to_have_url(f"{booking_site}/my")  # everyone else stays signed in

    await disabled.get_by_role("button", name=f"Enable the account: {COORDINATOR}").click()
    await expect(admin.get_by_role("status")).to_contain_text("enabled again")
    await sign_in(coordinator, booking_site, COORDINATOR)
    await expect(coordinator).to_have_url(f"{booking_site}/coordinator")

    await admin.get_by_role("link", name="Who is signed in").click()
    await admin.get_by_role("button", name=f"Sign out everywhere: {COORDINATOR}").first.click()
    await expect(admin.get_by_role("status")).to_contain_text("Signed out everywhere")
    await coordinator.reload()
    await expect(coordinator).to_have_url(f"{booking_site}/sign-in")


async def test_a_pa_changes_their_password_and_their_other_browser_is_signed_out(
    browser: Browser, contexts: list[BrowserContext], booking_site: str, screenshots: Path
) -> None:
    here, elsewhere = await desk(browser, contexts), await desk(browser, contexts)
    await sign_in(elsewhere, booking_site, PA)
    await expect(elsewhere).to_have_url(f"{booking_site}/pa")
    await sign_in(here, booking_site, PA)
    await expect(here).to_have_url(f"{booking_site}/pa")
    await here.get_by_role("link", name="Change password").click()
    await expect(here.get_by_role("heading", level=1)).to_have_text("Change your password")
    await assert_accessible(here)

    async def change(current: str, new: str, repeat: str | None = None) -> None:
        await here.get_by_label("Current password").fill(current)
        await here.get_by_label("New password", exact=True).fill(new)
        await here.get_by_label("New password again").fill(repeat or new)
        await here.get_by_role("button", name="Change the password").click()

    await change("not it", "a sturdy new passphrase")
    await expect(here.get_by_role("alert")).to_contain_text("current password is wrong")
    await change(DEMO_PASSWORD, "adviser@demo.signpost.example!")
    await expect(here.get_by_role("alert")).to_contain_text("email address")
    await change(DEMO_PASSWORD, "a sturdy new passphrase")
    await expect(here.get_by_role("status")).to_contain_text("Your password is changed")
    await expect(here.get_by_role("status")).to_contain_text("1 other session was signed out")
    await here.screenshot(path=str(screenshots / "password-changed.png"), full_page=True)

    await elsewhere.reload()
    await expect(elsewhere).to_have_url(f"{booking_site}/sign-in")
    await here.goto(f"{booking_site}/pa")
    await expect(here).to_have_url(f"{booking_site}/pa")

    await here.get_by_role("link", name="Change password").click()
    await change("a sturdy new passphrase", DEMO_PASSWORD)
    await expect(here.get_by_role("status")).to_contain_text("Your password is changed")
