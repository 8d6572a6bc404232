"""Real Chromium (Debian's package) driven by Playwright, against a real booking service (and,
for the EBP's and students' work-experience pages, booking and placements together)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright

from services.booking.bootstrap import create_app
from services.booking.demo import demo_id, seed
from services.booking.settings import BookingSettings
from services.notifications.bootstrap import create_app as notifications_app
from services.notifications.settings import NotificationsSettings
from services.placements.adapters.orm import students
from services.placements.bootstrap import create_app as placements_app
from services.placements.settings import PlacementsSettings
from shared.db import Database
from shared.devbroker import free_port
from shared.devdb import create_database, drop_database
from shared.http.pages import LONDON
from shared.messaging.tables import outbox
from tests.conftest import eventually
from tests.support import app_client, settings_for

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240  (a one-off check before launching)
        pytest.fail(f"Chromium is not installed at {CHROMIUM}; run deploy/ensure-test-deps.sh")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


SERIOUS = ("serious", "critical")
_AXE = Axe()


async def assert_accessible(page: Page) -> None:
    """axe-core finds nothing serious or critical on the page as it now stands."""
    results = await _AXE.run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in SERIOUS]
    assert not serious, f"{page.url}:\n" + "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in serious
    )


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[Page]:
    """A student's phone: a small touch screen, in a browser context of its own."""
    context = await browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        locale="en-GB",
        timezone_id="Europe/London",
    )
    try:
        yield await context.new_page()
    finally:
        await context.close()


@pytest.fixture
async def desk(browser: Browser) -> AsyncIterator[Page]:
    """Staff at a desk, in a browser context of their own."""
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="Europe/London"
    )
    try:
        yield await context.new_page()
    finally:
        await context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where the browser tests leave screenshots of the main pages, for people to look at."""
    folder = Path(os.environ.get("SIGNPOST_SCREENSHOTS", "var/screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# Pages run over the same application code as the API, whose tests cover both databases; so
# most page modules run over SQLite (what `make run` uses), and the main paths (a student's
# booking, EBP staff's matching) over PostgreSQL too, with `BOTH_DATABASES` as their mark.
BOTH_DATABASES = ["sqlite", "postgresql"]


def both_databases(fixture: str) -> pytest.MarkDecorator:
    """A module mark: run its pages once over SQLite and once over PostgreSQL."""
    return pytest.mark.parametrize(fixture, BOTH_DATABASES, indirect=True, scope="module")


@pytest.fixture(scope="module", params=["sqlite"])
async def site_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """Booking's database for a module's pages: SQLite, or each kind under `both_databases`."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('site-db')}/b.db"
        return
    server: str = request.getfixturevalue("postgres_server")
    url = await create_database(server, "signpost_browser")
    try:
        yield url
    finally:
        await drop_database(server, url)


@pytest.fixture(scope="module")
def booking_settings(
    broker: str, site_database: str, tmp_path_factory: pytest.TempPathFactory
) -> BookingSettings:
    return settings_for(
        BookingSettings,
        database_url=site_database,
        broker=broker,
        data_dir=tmp_path_factory.mktemp("booking-site"),
        CALENDAR_IMPORT_SECONDS="0.5",
        # Pages redirect to the site's public URL: the port the service will listen on.
        BOOKING_PUBLIC_URL=f"http://127.0.0.1:{free_port()}",
    )


# The day the browser tests' site lives on, whatever today is: a Friday in term, just after
# the Ashcombe drop-in starts, with a fortnight of term before and after it.
SITE_STARTS = datetime(2026, 3, 6, 12, 20, tzinfo=LONDON)


class StartedClock:
    """A clock that starts at a chosen moment and then runs as real time does."""

    def __init__(self, start: datetime) -> None:
        self.start = start.astimezone(UTC)
        self._started = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._started)

    def today(self) -> date:
        return self().astimezone(LONDON).date()


@pytest.fixture(scope="module")
def site_clock() -> StartedClock:
    """Booking's "now" in the browser tests: each module's site starts on `SITE_STARTS`."""
    return StartedClock(SITE_STARTS)


@pytest.fixture(scope="module")
async def booking_site(
    booking_settings: BookingSettings, site_clock: StartedClock
) -> AsyncIterator[str]:
    """The booking service with the demo county, listening on a loopback port."""
    settings = booking_settings
    port = int(str(settings.booking_public_url).rsplit(":", 1)[1])
    async with app_client(partial(create_app, clock=site_clock), settings, port=port) as client:
        db = Database(settings.database_url)
        try:
            await seed(db, students_total=200, advisers_total=6, now=site_clock())
        finally:
            await db.dispose()
        yield str(client.make_url("/")).rstrip("/")


@dataclass(frozen=True)
class JoinedSite:
    """Booking and notifications side by side, each knowing the other's public URL."""

    booking: str
    notifications: str
    booking_database: str
    notifications_database: str


@pytest.fixture(scope="module")
async def notifications_database(
    request: pytest.FixtureRequest, site_database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """Notifications' own database, of the same kind as booking's in this module."""
    if site_database.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('site-db')}/n.db"
        return
    server: str = request.getfixturevalue("postgres_server")
    url = await create_database(server, "signpost_browser_n")
    try:
        yield url
    finally:
        await drop_database(server, url)


@pytest.fixture(scope="module")
async def joined_site(
    broker: str,
    site_database: str,
    notifications_database: str,
    site_clock: StartedClock,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[JoinedSite]:
    """Notifications, then booking with the demo county (so notifications hears its
    directory), on free loopback ports chosen first; one key pair signs and checks tokens."""
    booking_port, notifications_port = free_port(), free_port()
    urls = {
        "BOOKING_PUBLIC_URL": f"http://127.0.0.1:{booking_port}",
        "NOTIFICATIONS_PUBLIC_URL": f"http://127.0.0.1:{notifications_port}",
    }
    data_dir = tmp_path_factory.mktemp("joined-site")
    notifications_settings = settings_for(
        NotificationsSettings,
        database_url=notifications_database,
        broker=broker,
        data_dir=data_dir,
        **urls,
    )
    booking_settings = settings_for(
        BookingSettings, database_url=site_database, broker=broker, data_dir=data_dir, **urls
    )
    async with (
        app_client(notifications_app, notifications_settings, port=notifications_port),
        app_client(
            partial(create_app, clock=site_clock), booking_settings, port=booking_port
        ) as booking,
    ):
        db = Database(booking_settings.database_url)
        try:
            await seed(db, students_total=200, advisers_total=6, now=site_clock())
        finally:
            await db.dispose()
        yield JoinedSite(
            booking=str(booking.make_url("/")).rstrip("/"),
            notifications=urls["NOTIFICATIONS_PUBLIC_URL"],
            booking_database=site_database,
            notifications_database=notifications_database,
        )


DEMO_STUDENTS = 200


async def _heard_of(copies: Database) -> set[str]:
    async with copies.read_session() as s:
        return set((await s.execute(sa.select(students.c.id))).scalars())


async def _where_the_directory_stopped(
    booking_url: str, copies: Database, demo_students: set[str]
) -> str:
    """What to say when placements has not heard of every student: how far each side got."""
    ids = await _heard_of(copies)
    heard = f"{len(ids & demo_students)} (and {len(ids - demo_students)} not the demo's)"
    db = Database(booking_url)
    try:
        async with db.read_session() as s:
            rows = (
                await s.execute(
                    sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)
                )
            ).all()
    finally:
        await db.dispose()
    by_status = ", ".join(f"{status}: {n}" for status, n in rows)
    return (
        f"placements heard of {heard} of {DEMO_STUDENTS} students; "
        f"booking's outbox by status: {by_status}"
    )


@dataclass(frozen=True)
class TwoServices:
    """Booking and placements on one host, each knowing the other's public URL."""

    booking: str
    placements: str
    booking_settings: BookingSettings
    placements_settings: PlacementsSettings


@pytest.fixture(scope="module", params=["sqlite"])
async def two_databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[str, str]]:
    """A database for booking and one for placements: SQLite, or each kind under
    `both_databases`."""
    if request.param == "sqlite":
        folder = tmp_path_factory.mktemp("two-db")
        yield f"sqlite+aiosqlite:///{folder}/b.db", f"sqlite+aiosqlite:///{folder}/p.db"
        return
    server: str = request.getfixturevalue("postgres_server")
    booking_url = await create_database(server, "signpost_browser_b")
    placements_url = await create_database(server, "signpost_browser_p")
    try:
        yield booking_url, placements_url
    finally:
        await drop_database(server, placements_url)
        await drop_database(server, booking_url)


@pytest.fixture(scope="module")
async def two_services(
    broker: str, two_databases: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[TwoServices]:
    """Placements, then booking with the demo county (200 students), in-process against the
    test broker; they share one signing key, and placements has heard of every student
    before the fixture yields."""
    booking_port, placements_port = free_port(), free_port()
    urls = {
        "BOOKING_PUBLIC_URL": f"http://127.0.0.1:{booking_port}",
        "PLACEMENTS_PUBLIC_URL": f"http://127.0.0.1:{placements_port}",
    }
    data_dir = tmp_path_factory.mktemp("two-services")
    booking_url, placements_url = two_databases
    placements_settings = settings_for(
        PlacementsSettings, database_url=placements_url, broker=broker, data_dir=data_dir, **urls
    )
    booking_settings = settings_for(
        BookingSettings, database_url=booking_url, broker=broker, data_dir=data_dir, **urls
    )
    async with (
        app_client(placements_app, placements_settings, port=placements_port),
        app_client(create_app, booking_settings, port=booking_port),
    ):
        db = Database(booking_url)
        try:
            await seed(db, students_total=DEMO_STUDENTS, advisers_total=6)
        finally:
            await db.dispose()
        copies = Database(placements_url)
        try:
            # The demo's own students: the broker is the whole session's, and a student an
            # earlier test announced late may reach placements too (the diagnostic below
            # names any such).
            demo_students = {demo_id("student", n) for n in range(DEMO_STUDENTS)}

            async def every_student_heard_of() -> bool:
                return demo_students <= await _heard_of(copies)

            try:
                await eventually(every_student_heard_of, timeout=60)
            except AssertionError as timed_out:
                stopped = await _where_the_directory_stopped(booking_url, copies, demo_students)
                raise AssertionError(stopped) from timed_out
        finally:
            await copies.dispose()
        yield TwoServices(
            urls["BOOKING_PUBLIC_URL"],
            urls["PLACEMENTS_PUBLIC_URL"],
            booking_settings,
            placements_settings,
        )
