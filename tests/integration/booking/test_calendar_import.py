"""A PA's own calendar, served from loopback as Outlook and Google publish it, imported as
busy time: it blocks exactly its busy slots, and a bad calendar keeps the last good times."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.booking.adapters.busy_calendar import busy_intervals
from services.booking.adapters.calendar_fetch import CalendarFetcher
from services.booking.adapters.orm import adviser_busy, appointments
from services.booking.application.calendar_import import (
    ImportTimings,
    refresh_next_import,
    register_import,
    show_import,
)
from services.booking.bootstrap import MIGRATIONS
from services.booking.settings import BookingSettings
from shared.db import Database
from shared.messaging.tables import outbox
from shared.migrations import upgrade
from shared.settings import ConfigError
from tests.conftest import eventually
from tests.integration.booking.calendars import LONDON, calendar_fixture, unit_of_work
from tests.integration.booking.world import (
    PA_1,
    World,
    build_world,
    next_weekday,
    student_id,
    world,
)

TIMINGS = ImportTimings(refresh_every=timedelta(hours=1), lease=timedelta(minutes=5))


@dataclass
class Published:
    """A PA's calendar on a loopback server: what it serves can be changed as it runs."""

    body: bytes = b""
    mode: str = "ok"
    hits: int = 0
    redirect_to: str = ""
    url: str = ""
    stalled: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.hits += 1
        etag = f'"{hash(self.body)}"'
        if self.mode == "redirect":
            raise web.HTTPFound(self.redirect_to)
        if self.mode == "slow":
            await self.stalled.wait()  # never set: the fetch's time limit ends it
        if self.mode == "broken":
            return web.Response(body=b"<html>Sign in to see this calendar</html>")
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=self.body, headers={"ETag": etag}, content_type="text/calendar")


@asynccontextmanager
async def published(body: bytes = b"") -> AsyncIterator[Published]:
    calendar = Published(body)
    app = web.Application()

    async def serve(request: web.Request) -> web.StreamResponse:
        return await calendar.handle(request)  # looked up per request: a test may replace it

    app.router.add_get("/calendar.ics", serve)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    calendar.url = str(server.make_url("/calendar.ics"))
    try:
        yield calendar
    finally:
        calendar.stalled.set()
        await server.close()


def monday_ahead() -> date:
    """A Monday a week or more ahead, so every slot of the next three weeks is bookable."""
    return next_weekday(date.today() + timedelta(days=6), 0)


def blocked_slots(monday: date, busy: list[tuple[int, str, str]]) -> set[tuple[int, str]]:
    """The 40-minute slots from 09:00 that `busy` (day, from, to in London) overlaps."""
    taken: set[tuple[int, str]] = set()
    for day, start, end in busy:
        for slot in ("09:00", "09:40", "10:20", "11:00"):
            slot_end = (datetime.strptime(slot, "%H:%M") + timedelta(minutes=40)).strftime("%H:%M")
            if start < slot_end and slot < end:
                taken.add((day, slot))
    return taken


EXPECTED = {
    # Weekly Monday 09:30-10:30 less an EXDATE on day 7, day 14's moved to day 15 11:00-12:00,
    # an all-day leave on day 2; the transparent day 3 and the cancelled day 4 are free.
    "outlook": [(0, "09:30", "10:30"), (15, "11:00", "12:00"), (2, "00:00", "24:00")],
    # Weekly Monday 10:00-11:00 in UTC with X-WR-TIMEZONE, EXDATE day 7, day 14 moved to day 16
    # 09:00-09:40; Fridays 11:00-11:30 with day 11's instance cancelled; all-day on day 1.
    "google": [
        (0, "10:00", "11:00"),
        (16, "09:00", "09:40"),
        (4, "11:00", "11:30"),
        (18, "11:00", "11:30"),
        (1, "00:00", "24:00"),
    ],
}


async def pa_1_free(w: World, monday: date) -> set[tuple[int, str]]:
    start = datetime.combine(monday, time(), tzinfo=LONDON)
    response = await w.client.get(
        "/api/v1/slots",
        params={
            "school_id": "school-a",
            "from": start.isoformat(),
            "to": (start + timedelta(days=21)).isoformat(),
        },
        headers=w.coordinator(),
    )
    assert response.status == 200, await response.text()
    free = set()
    for slot in (await response.json())["slots"]:
        local = datetime.fromisoformat(slot["starts_at"]).astimezone(LONDON)
        if PA_1 in slot["adviser_ids"]:
            free.add(((local.date() - monday).days, local.strftime("%H:%M")))
    return free


@pytest.mark.parametrize("style", ["outlook", "google"])
async def test_an_imported_calendar_blocks_exactly_its_busy_slots(
    database_url: str, broker: str, tmp_path: Path, style: str
) -> None:
    monday = monday_ahead()
    async with (
        published(calendar_fixture(style, monday)) as calendar,
        world(
            database_url,
            broker,
            tmp_path,
            CALENDAR_ALLOW_PRIVATE_ADDRESSES="true",
            CALENDAR_IMPORT_SECONDS="0.2",
        ) as w,
    ):
        before = await pa_1_free(w, monday)
        every_weekday = {
            (d, s) for d in range(21) if d % 7 < 5 for s in ("09:00", "09:40", "10:20", "11:00")
        }
        assert before == every_weekday
        put = await w.client.put(
            "/api/v1/advisers/me/calendar-import", json={"url": calendar.url}, headers=w.adviser()
        )
        assert put.status == 200, await put.text()

        async def imported() -> dict[str, Any] | None:
            status = await w.client.get("/api/v1/advisers/me/calendar-import", headers=w.adviser())
            body: dict[str, Any] = await status.json()
            return body if body["last_result"] == "ok" else None

        status = await eventually(imported)
        assert status["busy_intervals"] == len(EXPECTED[style])
        assert before - await pa_1_free(w, monday) == blocked_slots(monday, EXPECTED[style])

        stopped = await w.client.delete("/api/v1/advisers/me/calendar-import", headers=w.adviser())
        assert stopped.status == 204
        assert await pa_1_free(w, monday) == before


async def test_a_calendar_url_at_127_0_0_1_is_refused_with_the_production_setting(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    production = {
        "SIGNPOST_ENV": "production",
        "DATABASE_URL": "postgresql+asyncpg://db/n",
        "JWT_PUBLIC_KEY": "x",
        "JWT_PRIVATE_KEY": "x",
        "COOKIE_SECURE": "true",
        "KAFKA_ALLOW_SINGLE_REPLICA": "true",
    }
    assert not BookingSettings.from_env(production).calendar_allow_private
    with pytest.raises(ConfigError, match="CALENDAR_ALLOW_PRIVATE_ADDRESSES"):
        BookingSettings.from_env({**production, "CALENDAR_ALLOW_PRIVATE_ADDRESSES": "true"})
    async with (
        published(calendar_fixture("outlook", monday_ahead())) as calendar,
        world(database_url, broker, tmp_path, CALENDAR_IMPORT_SECONDS="0.2") as w,
    ):
        for url in (calendar.url, calendar.url.replace("127.0.0.1", "localhost")):
            put = await w.client.put(
                "/api/v1/advisers/me/calendar-import", json={"url": url}, headers=w.adviser()
            )
            assert put.status == 200

            async def refused() -> dict[str, Any] | None:
                status = await w.client.get(
                    "/api/v1/advisers/me/calendar-import", headers=w.adviser()
                )
                body: dict[str, Any] = await status.json()
                return body if body["last_result"] == "refused_address" else None

            assert "private or local" in (await eventually(refused))["last_error"]
        assert calendar.hits == 0
        bad = await w.client.put(
            "/api/v1/advisers/me/calendar-import",
            json={"url": "file:///etc/passwd"},
            headers=w.adviser(),
        )
        assert bad.status == 422
        assert "url" in await bad.text()


async def test_a_redirect_to_a_private_address_is_refused() -> None:
    def only_127_0_0_1_is_public(address: str) -> bool:
        return ipaddress.ip_address(address) != ipaddress.ip_address("127.0.0.1")

    fetcher = CalendarFetcher(
        timeout_seconds=5, max_bytes=100_000, refused=only_127_0_0_1_is_public
    )
    async with published(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n") as calendar:
        assert (await fetcher.fetch(calendar.url)).body is not None
        calendar.mode, calendar.redirect_to = (
            "redirect",
            calendar.url.replace("127.0.0.1", "127.0.0.2"),
        )
        with pytest.raises(Exception) as refused:
            await fetcher.fetch(calendar.url)
        assert getattr(refused.value, "code", None) == "refused_address"
        assert calendar.hits == 2  # the second address was never asked
        calendar.redirect_to = calendar.url
        with pytest.raises(Exception) as looping:
            await fetcher.fetch(calendar.url)
        assert getattr(looping.value, "code", None) == "too_many_redirects"


async def _busy_rows(db: Database) -> list[tuple[datetime, datetime]]:
    async with db.read_session() as s:
        rows = await s.execute(
            sa.select(adviser_busy.c.starts_at, adviser_busy.c.ends_at)
            .where(adviser_busy.c.adviser_id == PA_1)
            .order_by(adviser_busy.c.starts_at)
        )
        return [(r.starts_at, r.ends_at) for r in rows]


async def test_a_broken_huge_or_slow_calendar_is_reported_and_keeps_the_last_good_busy_time(
    database_url: str,
) -> None:
    db = Database(database_url)
    clock = [datetime.now(UTC)]
    fetcher = CalendarFetcher(timeout_seconds=0.5, max_bytes=20_000, allow_private=True)
    uow = partial(unit_of_work, db)

    async def refresh() -> str | None:
        return await refresh_next_import(uow, fetcher, busy_intervals, lambda: clock[0], TIMINGS)

    try:
        await upgrade(db, MIGRATIONS)
        await build_world(db)
        async with published(calendar_fixture("google", monday_ahead())) as calendar:
            await register_import(uow(), PA_1, calendar.url, clock[0])
            assert await refresh() == "ok"
            good = await _busy_rows(db)
            assert len(good) == 5
            assert await refresh() is None  # not due again for an hour
            clock[0] += timedelta(hours=2)
            assert await refresh() == "not_modified"  # the conditional GET's 304

            for mode, code, body in (
                ("broken", "unreadable", calendar.body),
                ("ok", "too_large", b"BEGIN:VCALENDAR\r\n" + b"X-PAD:" + b"x" * 30_000),
                ("slow", "timeout", calendar.body),
            ):
                calendar.mode, calendar.body = mode, body
                clock[0] += timedelta(hours=2)
                assert await refresh() == code
                found = await show_import(uow(), PA_1)
                assert found is not None and found.last_result == code
                assert found.last_error and calendar.url not in found.last_error
                assert found.busy_count == 5
                assert await _busy_rows(db) == good
    finally:
        await db.dispose()


async def test_a_claim_left_by_a_job_that_died_is_taken_again_when_its_lease_runs_out(
    database_url: str,
) -> None:
    db = Database(database_url)
    now = datetime.now(UTC)
    fetcher = CalendarFetcher(timeout_seconds=5, max_bytes=100_000, allow_private=True)
    uow = partial(unit_of_work, db)
    try:
        await upgrade(db, MIGRATIONS)
        await build_world(db)
        async with published(calendar_fixture("outlook", monday_ahead())) as calendar:
            await register_import(uow(), PA_1, calendar.url, now)
            async with uow() as dying:  # claimed and committed, then the process died
                assert await dying.calendar_imports.claim_due(now, now + TIMINGS.lease)
                await dying.commit()
            during = now + TIMINGS.lease - timedelta(seconds=1)
            assert (
                await refresh_next_import(uow, fetcher, busy_intervals, lambda: during, TIMINGS)
                is None
            )
            after = now + TIMINGS.lease + timedelta(seconds=1)
            assert (
                await refresh_next_import(uow, fetcher, busy_intervals, lambda: after, TIMINGS)
                == "ok"
            )
            assert len(await _busy_rows(db)) == 3
    finally:
        await db.dispose()


async def test_a_fetch_for_a_url_the_pa_changed_meanwhile_writes_nothing(
    database_url: str,
) -> None:
    db = Database(database_url)
    now = datetime.now(UTC)
    fetcher = CalendarFetcher(timeout_seconds=5, max_bytes=100_000, allow_private=True)
    uow = partial(unit_of_work, db)
    try:
        await upgrade(db, MIGRATIONS)
        await build_world(db)
        async with published(calendar_fixture("outlook", monday_ahead())) as calendar:
            await register_import(uow(), PA_1, calendar.url, now)
            original = calendar.handle

            async def changed_while_serving(request: web.Request) -> web.StreamResponse:
                await register_import(uow(), PA_1, calendar.url + "?new", now)
                return await original(request)

            calendar.handle = changed_while_serving  # type: ignore[method-assign]
            outcome = await refresh_next_import(uow, fetcher, busy_intervals, lambda: now, TIMINGS)
            assert outcome == "superseded"
            found = await show_import(uow(), PA_1)
            assert found is not None and found.url.endswith("?new") and found.last_result is None
            assert await _busy_rows(db) == []
    finally:
        await db.dispose()


async def test_busy_time_over_a_booked_interview_is_announced_once_and_cancels_nothing(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    monday = monday_ahead()
    async with (
        published(calendar_fixture("outlook", monday)) as calendar,
        world(
            database_url,
            broker,
            tmp_path,
            CALENDAR_ALLOW_PRIVATE_ADDRESSES="true",
            CALENDAR_IMPORT_SECONDS="0.2",
        ) as w,
    ):
        nine_forty = datetime.combine(monday, time(9, 40), tzinfo=LONDON)
        booked = await w.book(
            w.coordinator(), nine_forty, student_id=student_id(0), adviser_id=PA_1
        )
        assert booked.status == 201, await booked.text()
        appointment_id = (await booked.json())["id"]
        await w.client.put(
            "/api/v1/advisers/me/calendar-import", json={"url": calendar.url}, headers=w.adviser()
        )

        async def announced() -> list[Any] | None:
            async with w.db.read_session() as s:
                rows = list(
                    await s.execute(
                        sa.select(outbox.c.key, outbox.c.body).where(
                            outbox.c.event_type == "booking.adviser.clash_detected"
                        )
                    )
                )
            return rows or None

        [clash] = await eventually(announced)
        assert clash.key == appointment_id
        assert "Team meeting" not in clash.body
        async with w.db.read_session() as s:
            status = (
                await s.execute(
                    sa.select(appointments.c.status).where(appointments.c.id == appointment_id)
                )
            ).scalar()
        assert status == "confirmed"
        await register_import(unit_of_work(w.db), PA_1, calendar.url, datetime.now(UTC))

        async def fetched_again() -> bool:
            found = await show_import(unit_of_work(w.db), PA_1)
            return found is not None and found.last_result == "ok"

        await eventually(fetched_again)
        assert len(await announced() or []) == 1
