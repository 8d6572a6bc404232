"""A PA's secret iCal feed, served by booking and read back by independent strict parsers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ical.calendar_stream import IcsCalendarStream

from services.booking.adapters.ics import render_feed
from services.booking.adapters.orm import appointments, students
from services.booking.application.calendars import fetch_feed
from tests.integration.booking.calendars import unit_of_work
from tests.integration.booking.test_clock_changes import next_change
from tests.integration.booking.world import (
    LONDON,
    PA_1,
    PA_2,
    World,
    first_free_morning,
    london,
    student_id,
    world,
)
from tests.strict_ics import strict_events


async def feed_url(w: World, adviser: str = PA_1) -> str:
    response = await w.client.post("/api/v1/advisers/me/feed/rotation", headers=w.adviser(adviser))
    assert response.status == 200, await response.text()
    return str((await response.json())["url"])


def path_of(url: str) -> str:
    return url[url.index("/feeds/") :]


async def fetch(w: World, url: str, **headers: str) -> Any:
    return await w.client.get(path_of(url), headers=headers)


async def book(w: World, starts_at: datetime, n: int = 0, adviser: str = PA_1, **extra: Any) -> str:
    response = await w.book(
        w.coordinator(), starts_at, student_id=student_id(n), adviser_id=adviser, **extra
    )
    assert response.status == 201, await response.text()
    return str((await response.json())["id"])


async def events_of(w: World, url: str) -> list[dict[str, Any]]:
    response = await fetch(w, url)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return strict_events(await response.read())


async def test_a_pa_gets_a_feed_url_that_opens_with_no_other_sign_in(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path) as w:
        missing = await w.client.get("/api/v1/advisers/me/feed", headers=w.adviser())
        assert missing.status == 404
        url = await feed_url(w)
        token = url.rsplit("/", 1)[1].removesuffix(".ics")
        assert len(token) >= 22  # at least 128 bits in URL-safe base64
        shown = await w.client.get("/api/v1/advisers/me/feed", headers=w.adviser())
        assert (await shown.json())["url"] == url
        opened = await fetch(w, url)
        assert opened.status == 200
        assert b"BEGIN:VCALENDAR" in await opened.read()


async def test_a_rotated_feed_url_stops_working_at_once(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path) as w:
        old = await feed_url(w)
        assert (await fetch(w, old)).status == 200
        new = await feed_url(w)
        assert new != old
        assert (await fetch(w, old)).status == 404
        assert (await fetch(w, new)).status == 200
        revoked = await w.client.delete("/api/v1/advisers/me/feed", headers=w.adviser())
        assert revoked.status == 204
        assert (await fetch(w, new)).status == 404
        gone = await w.client.get("/api/v1/advisers/me/feed", headers=w.adviser())
        assert gone.status == 404


async def test_a_subscribed_calendar_app_gets_304_and_the_pa_sees_its_fetches(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path) as w:
        await book(w, london(first_free_morning(), 9))
        async with w.db.session() as s:  # booked a minute ago, not in this very second
            await s.execute(
                appointments.update().values(updated_at=datetime.now(UTC) - timedelta(minutes=1))
            )
        url = await feed_url(w)
        first = await fetch(w, url)
        assert first.status == 200
        etag = first.headers["ETag"]
        assert first.headers["Last-Modified"].endswith("GMT")
        again = await fetch(w, url, **{"If-None-Match": etag})
        assert again.status == 304
        assert await again.read() == b""
        since = await fetch(w, url, **{"If-Modified-Since": first.headers["Last-Modified"]})
        assert since.status == 304
        await book(w, london(first_free_morning(), 10, 20), n=1)
        changed = await fetch(w, url, **{"If-None-Match": etag})
        assert changed.status == 200
        assert changed.headers["ETag"] != etag
        changed_since = await fetch(w, url, **{"If-Modified-Since": first.headers["Last-Modified"]})
        assert changed_since.status == 200
        shown = await (await w.client.get("/api/v1/advisers/me/feed", headers=w.adviser())).json()
        assert shown["fetches"] == 5
        assert shown["last_fetched_at"] is not None


async def feed_at(w: World, url: str, now: datetime) -> bytes:
    """The feed as it is served at `now` (the use case takes the time it is given)."""
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    found = await fetch_feed(
        unit_of_work(w.db),
        token,
        now,
        lambda e, win: render_feed(e, win, name="Careers appointments", base_url=""),
    )
    assert found is not None and found.body is not None
    return found.body


async def test_interviews_either_side_of_both_clock_changes_show_at_nine_local(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path) as w:
        url = await feed_url(w)
        for n, month in enumerate((3, 10)):
            sunday = next_change(month)
            for day in (sunday - timedelta(days=2), sunday + timedelta(days=1)):
                await book(w, london(day, 9), n=n)
            now = datetime.combine(sunday - timedelta(days=20), datetime.min.time(), UTC)
            body = await feed_at(w, url, now)
            assert body.count(b"DTSTART;TZID=Europe/London:") == 2
            starts = sorted(e["start"] for e in strict_events(body))
            assert [s.astimezone(LONDON).strftime("%H:%M") for s in starts] == ["09:00"] * 2
            assert [s.utcoffset() for s in starts] == (
                [timedelta(0), timedelta(hours=1)]
                if month == 3
                else [timedelta(hours=1), timedelta(0)]
            )
        served = await fetch(w, url)  # and through HTTP, for whichever change is near
        assert served.status == 200
        for event in strict_events(await served.read()):
            assert event["start"].astimezone(LONDON).hour == 9


async def test_a_rescheduled_interview_keeps_its_uid_and_raises_its_sequence(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path) as w:
        day = first_free_morning()
        booked = await book(w, london(day, 9))
        url = await feed_url(w)
        [before] = await events_of(w, url)
        moved = await w.client.post(
            f"/api/v1/appointments/{booked}/reschedule",
            json={"starts_at": london(day, 11).isoformat()},
            headers=w.coordinator(),
        )
        assert moved.status == 200, await moved.text()
        [after] = await events_of(w, url)
        assert after["uid"] == before["uid"]
        assert after["sequence"] > before["sequence"]
        assert after["last_modified"] >= before["last_modified"]
        assert after["start"].astimezone(LONDON).hour == 11


async def test_a_cancelled_interview_stays_cancelled_for_30_days_then_leaves(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path) as w:
        booked = await book(w, london(first_free_morning(), 9))
        url = await feed_url(w)
        [confirmed] = await events_of(w, url)
        cancelled = await w.client.post(
            f"/api/v1/appointments/{booked}/cancel",
            json={"reason": "PA unwell"},
            headers=w.coordinator(),
        )
        assert cancelled.status == 200, await cancelled.text()
        [shown] = await events_of(w, url)
        assert shown["status"] == "CANCELLED"
        assert shown["uid"] == confirmed["uid"]
        assert shown["sequence"] > confirmed["sequence"]

        assert await events_of(w, url)  # shown while the 30 days run
        later = await feed_at(w, url, datetime.now(UTC) + timedelta(days=31))
        assert strict_events(later) == []


async def test_nothing_sensitive_reaches_a_feed_for_a_pa_of_any_kind(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    async with world(database_url, broker, tmp_path) as w:
        async with w.db.session() as s:
            await s.execute(
                students.update()
                .where(students.c.id == student_id(9))
                .values(display_name="Amy Sarah Smith-Jones")
            )
        day = first_free_morning()
        await book(w, london(day, 9), n=9, adviser=PA_2, referral={"reason": "Self-harm risk"})
        await book(w, london(day, 9), n=1, adviser=PA_1)
        for adviser in (PA_1, PA_2):
            for event in await events_of(w, await feed_url(w, adviser)):
                words = " ".join(event[f] for f in ("summary", "description", "location"))
                for sensitive in (
                    "Amy",
                    "Smith",
                    "harm",
                    "intensive",
                    "support",
                    "neet",
                    "priority",
                    "referral",
                    "@",
                    "+44",
                ):
                    assert sensitive.lower() not in words.lower(), (adviser, words)
                assert event["summary"].startswith("Careers interview - ")
                assert event["location"] == "Careers room, School A"
        [flagged] = await events_of(w, await feed_url(w, PA_2))
        assert flagged["summary"] == "Careers interview - A.S. (Y9)"


def test_the_feed_parses_with_ical_too() -> None:
    """The `ical` package reads a rendered feed strictly (its own model validation)."""
    from services.booking.domain.calendars import EntryStatus, FeedEntry, feed_window
    from services.booking.domain.model import Interval

    now = datetime(2026, 10, 20, 8, tzinfo=UTC)
    start = datetime(2026, 10, 26, 9, tzinfo=LONDON)
    entry = FeedEntry(
        "a-1",
        "Careers interview - A.S. (Y11)",
        "Careers room, School A",
        Interval(start, start + timedelta(minutes=40)),
        EntryStatus.CONFIRMED,
        0,
        now,
        "/api/v1/appointments/a-1",
    )
    body = render_feed([entry], feed_window(now), name="x", base_url="https://b.example")
    calendar = IcsCalendarStream.calendar_from_ics(body.decode())
    [event] = calendar.events
    assert event.start_datetime == start
    assert event.start_datetime.astimezone(UTC).hour == 9  # GMT again after the October change
