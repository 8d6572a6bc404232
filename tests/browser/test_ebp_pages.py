"""EBP staff and students on placements' pages, with booking and placements running together:
EBP staff sign in on booking and land in placements, import employers, open a round, run
matchings and follow them, read results, pin, compare, publish, withdraw and clear; a student
chooses their placements on a phone and sees where they are going once it is published."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from playwright.async_api import Browser, FilePayload, Page, expect

from services.booking.demo import DEMO_PASSWORD, demo_id, demo_name
from services.placements.adapters.orm import matching_runs
from services.placements.adapters.uow import PlacementsUnitOfWork
from services.placements.application.employers import placement_id_for
from services.placements.application.rounds import OpenRound, open_round
from services.placements.demo_round import state_preferences
from shared.db import Database
from tests.browser.conftest import TwoServices, assert_accessible, both_databases
from tests.conftest import eventually

EBP = "ebp@demo.signpost.example"
STUDENT = "student@demo.signpost.example"
STUDENT_ID = demo_id("student", 40)  # Year 11 at Ashcombe Academy
SCHOOLS = ("Ashcombe Academy", "Brookfield School", "Castlemead High")
HEADER = (
    "employer_ref,employer_name,contact_email,postcode,health_safety_expires,"
    "insurance_expires,placement_ref,title,sector,weeks,capacity_per_week\n"
)

# A main path: over PostgreSQL as well as SQLite.
pytestmark = both_databases("two_databases")


def _csv(text: str) -> FilePayload:
    return {"name": "employers.csv", "mimeType": "text/csv", "buffer": text.encode()}


def good_file(today: date) -> str:
    later = (today + timedelta(days=900)).isoformat()
    soon = (today + timedelta(days=10)).isoformat()
    rows = [
        f"BR-E1,Maidstone Vets,vets@example.org,ME14 5AB,{later},{later},BR-P1,"
        "Veterinary nursing,Animal Care,2027-W25 2027-W26,5",
        f"BR-E2,Medway Hospital,hr@example.org,ME14,{later},{later},BR-P2,Ward support,"
        "health,2027-W25 2027-W26,5",
        f"BR-E3,Canterbury Books,shop@example.org,CT1,{later},{later},BR-P3,Bookshop,"
        "retail,2027-W25 2027-W26,5",
        f"BR-E4,Ashford Code,jobs@example.org,TN23,{later},{later},BR-P4,Software help desk,"
        "it,2027-W25 2027-W26,5",
        f"BR-E5,Lapsing Garage,garage@example.org,ME14,{later},{soon},BR-P5,Workshop,"
        "automotive,2027-W25,2",
    ]
    return HEADER + "\n".join(rows) + "\n"


FAULTY = HEADER + (
    "BR-E1,Maidstone Vets,vets@example.org,ME14,2030-01-01,2030-01-01,BR-P1,Nursing,"
    "basket weaving,2027-W25,5\n"
    "BR-E2,Medway Hospital,hr@example.org,ME14,2030-01-01,next year,BR-P2,Ward support,"
    "health,2027-W25,5\n"
    "BR-E3,Canterbury Books,shop@example.org,CT1,2030-01-01,2030-01-01,BR-P3,Bookshop,"
    "retail,2027-W25,0\n"
)


async def sign_in_as(page: Page, services: TwoServices, email: str) -> None:
    await page.goto(f"{services.booking}/sign-in")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


async def import_employers(page: Page, text: str) -> None:
    await page.get_by_role("link", name="Import employers").click()
    await page.get_by_label("Employers file (CSV)").set_input_files(files=_csv(text))
    await page.get_by_role("button", name="Import the employers").click()


async def test_ebp_staff_land_on_their_home_in_placements(
    desk: Page, two_services: TwoServices
) -> None:
    await sign_in_as(desk, two_services, EBP)
    await expect(desk).to_have_url(f"{two_services.placements}/placements/ebp")
    await expect(desk.get_by_role("heading", level=1)).to_have_text("Employers and placements")
    await desk.goto(f"{two_services.booking}/my")
    await expect(desk).to_have_url(f"{two_services.placements}/placements/ebp")
    await desk.goto(f"{two_services.placements}/placements/my")
    await expect(desk).to_have_url(f"{two_services.placements}/placements/ebp")
    await assert_accessible(desk)
    # Booking owns the session: placements' link leads to booking's page that ends it.
    await desk.get_by_role("link", name="Sign out").click()
    await expect(desk).to_have_url(f"{two_services.booking}/sign-out")
    await assert_accessible(desk)
    await desk.get_by_role("button", name="Sign out").click()
    await expect(desk).to_have_url(f"{two_services.booking}/sign-in")
    await desk.goto(f"{two_services.placements}/placements/ebp/rounds")
    await expect(desk).to_have_url(f"{two_services.booking}/sign-in")


async def test_an_employers_file_with_mistakes_is_refused_then_a_good_one_is_imported(
    desk: Page, two_services: TwoServices, screenshots: Path
) -> None:
    await sign_in_as(desk, two_services, EBP)
    await import_employers(desk, FAULTY)
    await expect(desk.get_by_role("alert")).to_contain_text("3 problems to fix")
    faults = desk.get_by_role("table", name="Problems in the file")
    await expect(faults.get_by_role("row").filter(has_text="sector")).to_contain_text("2")
    await expect(faults.get_by_role("row").filter(has_text="insurance_expires")).to_contain_text(
        "3"
    )
    await expect(faults.get_by_role("row").filter(has_text="capacity_per_week")).to_contain_text(
        "4"
    )
    await assert_accessible(desk)
    await desk.screenshot(path=str(screenshots / "ebp-import.png"), full_page=True)
    await desk.get_by_role("link", name="Employers and placements").click()
    await expect(desk.get_by_text("Maidstone Vets")).to_have_count(0)

    await import_employers(desk, good_file(date.today()))
    await expect(desk.get_by_role("status")).to_contain_text("The employers are imported: 5 rows")
    await desk.get_by_role("link", name="Employers and placements").click()
    employers = desk.get_by_role("table", name="Employers")
    await expect(employers.get_by_role("row").filter(has_text="Maidstone Vets")).to_contain_text(
        "Veterinary nursing"
    )
    chase = desk.get_by_role("table", name="Vetting to chase")
    await expect(chase.get_by_role("row").filter(has_text="Lapsing Garage")).to_contain_text(
        "Insurance"
    )
    await expect(chase).not_to_contain_text("Maidstone Vets")
    await assert_accessible(desk)
    await desk.screenshot(path=str(screenshots / "ebp-home.png"), full_page=True)


async def _open_a_round(desk: Page, services: TwoServices, screenshots: Path) -> str:
    await desk.get_by_role("link", name="Allocation rounds").click()
    await desk.get_by_label("Name of the round").fill("Summer 2027 test round")
    await desk.get_by_label("Year group").select_option("11")
    await desk.get_by_label("Placement weeks").fill("2027-W25, 2027-W26")
    for school in SCHOOLS:
        await desk.get_by_label(school).check()
    await assert_accessible(desk)
    await desk.screenshot(path=str(screenshots / "ebp-rounds.png"), full_page=True)
    await desk.get_by_role("button", name="Open the round").click()
    await expect(desk.get_by_role("status")).to_contain_text("The round is open")
    found = re.search(r"/rounds/([0-9a-f-]{36})", desk.url)
    assert found, desk.url
    return found.group(1)


async def _choose_as_the_student(phone: Page, services: TwoServices, screenshots: Path) -> None:
    await sign_in_as(phone, services, STUDENT)
    await phone.get_by_role(
        "link", name=re.compile("Choose your work-experience placement")
    ).click()
    await expect(phone).to_have_url(f"{services.placements}/placements/my")
    await expect(phone.get_by_role("heading", level=2)).to_contain_text("Summer 2027 test round")
    await phone.get_by_role("button", name="Save my choices").click()
    await expect(phone.get_by_role("alert")).to_contain_text("Choose at least one option")
    await phone.get_by_label("First choice").select_option("sector:health")
    await phone.get_by_label("Second choice").select_option("sector:health")
    await phone.get_by_role("button", name="Save my choices").click()
    await expect(phone.get_by_role("alert")).to_contain_text("same option twice")
    await phone.get_by_label("Second choice").select_option("sector:animal_care")
    await phone.get_by_label("Third choice").select_option(f"placement:{placement_id_for('BR-P3')}")
    await expect(phone.get_by_label("Third choice")).to_contain_text("Bookshop, Canterbury Books")
    await phone.get_by_label("How far you can travel").fill("80")
    await phone.get_by_label("If none of my choices is possible, any suitable placement").check()
    await phone.get_by_role("button", name="Save my choices").click()
    await expect(phone.get_by_role("status")).to_contain_text("Your choices are saved")
    await phone.reload()
    await expect(phone.get_by_label("First choice")).to_have_value("sector:health")
    await expect(phone.get_by_label("Second choice")).to_have_value("sector:animal_care")
    await expect(phone.get_by_label("Fourth choice")).to_have_value("")
    await expect(
        phone.get_by_label("If none of my choices is possible, any suitable placement")
    ).to_be_checked()
    await assert_accessible(phone)
    await phone.screenshot(path=str(screenshots / "student-work-experience.png"), full_page=True)


async def _run_a_matching(desk: Page, seed: int) -> str:
    await desk.get_by_label("Lottery seed").fill(str(seed))
    await desk.get_by_role("button", name="Run a matching").click()
    results = desk.get_by_role("heading", name=re.compile("^Results for"))
    # The page shows the run's progress until it ends, then its results.
    await expect(desk.get_by_role("progressbar").or_(results)).to_be_visible()
    await expect(results).to_be_visible(timeout=60_000)
    found = re.search(r"/runs/([0-9a-f-]{36})", desk.url)
    assert found, desk.url
    return found.group(1)


async def test_a_round_from_students_choices_to_a_published_placement(
    desk: Page, phone: Page, two_services: TwoServices, screenshots: Path
) -> None:
    await sign_in_as(desk, two_services, EBP)
    await import_employers(desk, good_file(date.today()))
    round_id = await _open_a_round(desk, two_services, screenshots)
    placements_db = Database(two_services.placements_settings.database_url)
    try:
        stated = await state_preferences(placements_db, round_id, skip=[STUDENT_ID])
        assert stated == 8  # the other Year 11 students of the three schools
        await _choose_as_the_student(phone, two_services, screenshots)

        await desk.reload()
        await expect(desk.get_by_text("9 students have stated preferences")).to_be_visible()
        first = await _run_a_matching(desk, seed=0)
        status = await desk.request.get(f"{desk.url}/status")
        assert (await status.json())["status"] == "completed"

        async def progress_recorded() -> bool:
            async with placements_db.read_session() as s:
                row = (
                    await s.execute(
                        sa.select(matching_runs.c.stage, matching_runs.c.progress_done).where(
                            matching_runs.c.id == first
                        )
                    )
                ).one()
            return row.stage == "measuring" and row.progress_done == 7

        await eventually(progress_recorded)
    finally:
        await placements_db.dispose()

    await expect(desk.get_by_role("status")).to_contain_text(re.compile(r"\d of 9 students placed"))
    await expect(
        desk.get_by_role("img", name="Placement rate by school, against the best possible")
    ).to_be_visible()
    by_school = desk.get_by_role("table", name="Placement rate by school")
    await expect(by_school.get_by_role("row").filter(has_text="Ashcombe Academy")).to_contain_text(
        "3"
    )
    await expect(desk.get_by_role("table", name="Which choice students got")).to_be_visible()
    html = await desk.content()
    assert demo_name(40) not in html, "no student is named on EBP staff's pages"
    await assert_accessible(desk)
    await desk.screenshot(path=str(screenshots / "ebp-run-results.png"), full_page=True)

    # Every result, beyond the first the page lists, downloads as a spreadsheet without names.
    summary = await desk.get_by_role("status").first.text_content() or ""
    placed_count, students_count = map(
        int,
        re.search(r"(\d+) of (\d+) students placed", summary).groups(),  # type: ignore[union-attr]
    )
    async with desk.expect_download() as downloading:
        await desk.get_by_role("link", name=re.compile("Download every result")).click()
    saved = Path(await (await downloading.value).path())
    sheet = await asyncio.to_thread(saved.read_text, encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(sheet)))
    assert len(rows) == students_count
    assert sum(r["outcome"].startswith("placed") for r in rows) == placed_count
    assert all(r["reason"] for r in rows if r["outcome"] == "unplaced")
    assert demo_name(40) not in sheet

    await desk.get_by_text("Who goes where, and pinning").click()
    placed = desk.get_by_role("table", name="Placed students")
    pin = placed.get_by_role("button", name=re.compile("^Pin ")).first
    await pin.click()
    await expect(desk.get_by_role("status").first).to_contain_text("The student is pinned")
    await desk.get_by_role("link", name="Back to Summer 2027 test round").click()
    pins = desk.get_by_role("table", name="Pinned students")
    await expect(pins.get_by_role("row")).to_have_count(2)

    await _run_a_matching(desk, seed=1)
    await desk.get_by_role("link", name="Back to Summer 2027 test round").click()
    await desk.get_by_role("button", name="Compare").click()
    await expect(desk.get_by_role("heading", level=1)).to_contain_text("Two runs of")
    measures = desk.get_by_role("table", name="Measures side by side")
    await expect(measures.get_by_role("row").filter(has_text="Students placed")).to_be_visible()
    await assert_accessible(desk)
    await desk.screenshot(path=str(screenshots / "ebp-compare.png"), full_page=True)

    await desk.get_by_role("link", name="Back to Summer 2027 test round").click()
    await pins.get_by_role("button", name="Unpin").click()
    await expect(desk.get_by_role("status")).to_contain_text("The pin is removed")
    await assert_accessible(desk)
    await desk.screenshot(path=str(screenshots / "ebp-round.png"), full_page=True)

    await desk.goto(f"{two_services.placements}/placements/ebp/rounds/{round_id}/runs/{first}")
    await desk.get_by_role("button", name="Publish these allocations").click()
    await expect(desk.get_by_role("status")).to_contain_text("The allocations are published")
    allocated = desk.get_by_role("table", name="Published allocations")
    await expect(allocated.get_by_role("row").filter(has_text="Year 11")).not_to_have_count(0)
    await expect(desk.get_by_role("button", name="Run a matching")).to_have_count(0)
    await assert_accessible(desk)

    await phone.goto(f"{two_services.placements}/placements/my")
    mine = phone.get_by_role("list", name="Your placement")
    await expect(mine).to_contain_text("Week 2027-W2")
    await expect(mine).to_contain_text("Summer 2027 test round")
    await assert_accessible(phone)
    await phone.screenshot(path=str(screenshots / "student-placement.png"), full_page=True)

    await desk.get_by_role("button", name="Run clearing").click()
    await expect(desk.get_by_role("status")).to_contain_text("Clearing is done")
    withdrew = allocated.get_by_role("button", name=re.compile(" withdrew$")).first
    leaving = (await withdrew.get_attribute("aria-label") or "").removesuffix(" withdrew")
    await withdrew.click()
    # Nothing is recorded until the withdrawal is confirmed, and keeping it changes nothing.
    releases = desk.get_by_role("table", name="Allocations the withdrawal releases")
    await expect(releases).to_contain_text(leaving)
    await assert_accessible(desk)
    await desk.get_by_role("link", name="Keep the allocation").click()
    await expect(allocated.get_by_role("row").filter(has_text=leaving)).to_have_count(1)
    await allocated.get_by_role("button", name=f"{leaving} withdrew").click()
    await desk.get_by_role("button", name="Record the withdrawal").click()
    await expect(desk.get_by_role("status")).to_contain_text("The withdrawal is recorded")
    await expect(allocated.get_by_role("row").filter(has_text=leaving)).to_have_count(0)
    await desk.screenshot(path=str(screenshots / "ebp-published.png"), full_page=True)


async def _a_round_with_a_running_match(db: Database) -> tuple[str, str]:
    """A round whose matching is running (on another replica, as far as this page knows)."""
    now = datetime.now(UTC)
    async with PlacementsUnitOfWork(db, producer="placements") as uow:
        round_ = await open_round(
            OpenRound(
                ebp_id=demo_id("ebp", 0),
                name="Autumn 2027 test round",
                year_group=10,
                deadline=now + timedelta(days=20),
                school_weeks={demo_id("school", 0): ["2027-W40"]},
                opened_by="test",
            ),
            uow,
            now,
        )
    run_id = str(uuid.uuid4())
    async with db.session() as s:
        await s.execute(
            matching_runs.insert().values(
                id=run_id,
                round_id=round_.id,
                seed=5,
                status="running",
                requested_by="test",
                started_at=now,
                stage="school shares",
                progress_done=1,
                progress_total=7,
            )
        )
    return round_.id, run_id


async def _set_progress(db: Database, run_id: str, stage: str, done: int) -> None:
    async with db.session() as s:
        await s.execute(
            matching_runs.update()
            .where(matching_runs.c.id == run_id)
            .values(stage=stage, progress_done=done)
        )


async def test_a_running_match_shows_its_progress_live_and_on_refresh(
    browser: Browser, desk: Page, two_services: TwoServices, screenshots: Path
) -> None:
    db = Database(two_services.placements_settings.database_url)
    no_script = await browser.new_context(
        viewport={"width": 1280, "height": 900},
        locale="en-GB",
        timezone_id="Europe/London",
        java_script_enabled=False,
    )
    try:
        round_id, run_id = await _a_round_with_a_running_match(db)
        run_page = f"{two_services.placements}/placements/ebp/rounds/{round_id}/runs/{run_id}"
        await sign_in_as(desk, two_services, EBP)
        await desk.goto(f"{two_services.placements}/placements/ebp/rounds/{round_id}")
        await desk.get_by_role("link", name=re.compile(r"^\w{3} \d+ \w{3}, \d\d:\d\d$")).click()
        await expect(desk).to_have_url(run_page)
        bar = desk.get_by_role("progressbar")
        await expect(bar).to_have_attribute("value", "1")
        await expect(bar).to_have_attribute("max", "7")
        await expect(
            desk.get_by_role("progressbar", name="Sharing places fairly between schools")
        ).to_be_visible()
        await assert_accessible(desk)
        await desk.screenshot(path=str(screenshots / "ebp-run-progress.png"), full_page=True)
        # The page's script follows the run without a reload.
        await _set_progress(db, run_id, "clearing", 5)
        await expect(bar).to_have_attribute("value", "5")
        await expect(desk.get_by_role("status")).to_contain_text("Running: clearing")

        # Without JavaScript, a refresh shows how far it has got.
        page = await no_script.new_page()
        await sign_in_as(page, two_services, EBP)
        await page.goto(run_page)
        await expect(page.get_by_role("progressbar")).to_have_attribute("value", "5")
        await _set_progress(db, run_id, "best places", 3)
        await page.get_by_role("link", name="Refresh to see how far it has got").click()
        bar = page.get_by_role("progressbar", name="Improving everyone's places")
        await expect(bar).to_have_attribute("value", "3")
        status = await page.request.get(f"{run_page}/status")
        assert await status.json() == {
            "status": "running",
            "stage": "Improving everyone's places",
            "done": 3,
            "total": 7,
            "percent": 43,
        }
    finally:
        await no_script.close()
        await db.dispose()
