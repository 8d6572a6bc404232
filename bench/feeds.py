"""PA calendar feeds: a PA with 2,000 appointments in the feed's window.

Runs the real booking service (a subprocess) against PostgreSQL and a local broker and
fetches the PA's feed through HTTP: the full feed, and the 304 a subscribed calendar app
gets when nothing changed. Beside them, the time `icalendar` alone takes to build and
serialise the same events in this process; the ratio is what Signpost adds (the database
reads, the rules, HTTP), and `/healthz` shows the HTTP floor. Goals on this machine: full
feed < 100 ms, 304 < 5 ms (medians).

    python -m bench.feeds                # 2,000 appointments, 30 fetches of each kind
    python -m bench.feeds --quick        # a smoke run
    python -m bench.feeds --json out.json

Needs a PostgreSQL server (BENCH_POSTGRES_URL, default the local one as user postgres).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time as clock
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from icalendar import Calendar, Event

from bench.booking_rush.service import DEFAULT_SERVER, start_service, wait_healthy
from services.booking.adapters.feed_tokens import HmacFeedTokens
from services.booking.adapters.orm import appointments, schools, students
from services.booking.application.calendars import rotate_feed
from services.booking.bootstrap import MIGRATIONS, task_unit_of_work
from shared.auth.keys import ensure_dev_keypair
from shared.db import Database
from shared.devbroker import LocalBroker, free_port
from shared.devdb import create_database, drop_database
from shared.events import catalogue  # noqa: F401  (registers every payload schema)
from shared.http.app import new_event_loop
from shared.migrations import upgrade

LONDON = ZoneInfo("Europe/London")
SCHOOL, ADVISER = "bench-school", "bench-pa"
PER_DAY = 10  # 40-minute interviews from 09:00, so 2,000 fill 200 days of the 210 shown


@dataclass
class Figures:
    appointments: int
    fetches: int
    feed_bytes: int
    full_p50_ms: float
    full_p90_ms: float
    not_modified_p50_ms: float
    not_modified_p90_ms: float
    healthz_p50_ms: float
    icalendar_alone_ms: float
    ratio: float


def starts(n: int, first_day: datetime) -> list[datetime]:
    return [
        datetime.combine(
            (first_day + timedelta(days=i // PER_DAY)).date(),
            time(9),
            tzinfo=LONDON,
        )
        + timedelta(minutes=40 * (i % PER_DAY))
        for i in range(n)
    ]


async def seed(url: str, n: int, data_dir: Path) -> str:
    """The PA's school, n students each with one interview, and the PA's feed token."""
    db = Database(url)
    now = datetime.now(UTC)
    try:
        await upgrade(db, MIGRATIONS)
        async with db.session() as s:
            await s.execute(
                schools.insert().values(
                    id=SCHOOL, name="Bench School", day_starts=time(8, 30), day_ends=time(15, 30)
                )
            )
            await s.execute(
                students.insert(),
                [
                    {
                        "id": f"s{i}",
                        "school_id": SCHOOL,
                        "year_group": 7 + i % 7,
                        "display_name": f"Student {i} Example",
                    }
                    for i in range(n)
                ],
            )
            await s.execute(
                appointments.insert(),
                [
                    {
                        "id": str(uuid.uuid4()),
                        "school_id": SCHOOL,
                        "student_id": f"s{i}",
                        "adviser_id": ADVISER,
                        "session_type": "interview",
                        "starts_at": start,
                        "ends_at": start + timedelta(minutes=40),
                        "minutes": 40,
                        "location": "Careers room",
                        "status": "cancelled" if i % 25 == 0 else "confirmed",
                        "revision": 1 + i % 3,
                        "place_key": f"bench-{i}",
                        "booked_by": "coordinator",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i, start in enumerate(starts(n, now - timedelta(days=25)))
                ],
            )
        keys = ensure_dev_keypair(data_dir / "keys")
        tokens = HmacFeedTokens.from_signing_key(keys.private_pem)
        view = await rotate_feed(task_unit_of_work(db), tokens, ADVISER, now)
        return view.token
    finally:
        await db.dispose()


async def timed_gets(
    http: aiohttp.ClientSession, url: str, times: int, headers: dict[str, str]
) -> tuple[list[float], bytes, str]:
    spent, body, etag = [], b"", ""
    for _ in range(times):
        started = clock.perf_counter()
        async with http.get(url, headers=headers) as response:
            body = await response.read()
            etag = response.headers.get("ETag", "")
            assert response.status in (200, 304), response.status
        spent.append(clock.perf_counter() - started)
    return spent, body, etag


def icalendar_alone(n: int, times: int) -> float:
    """The median time icalendar takes to build and serialise n comparable events."""
    now = datetime.now(UTC)
    spans = starts(n, now - timedelta(days=25))
    spent = []
    for _ in range(times):
        started = clock.perf_counter()
        calendar = Calendar()
        calendar.add("prodid", "-//bench//EN")
        calendar.add("version", "2.0")
        for i, start in enumerate(spans):
            event = Event()
            event.add("uid", f"{i}@bench")
            event.add("dtstamp", now)
            event.add("last-modified", now)
            event.add("sequence", i % 3)
            event.add("status", "CONFIRMED")
            event.add("summary", "Careers interview - S.E. (Y11)")
            event.add("location", "Careers room, Bench School")
            event.add("dtstart", start)
            event.add("dtend", start + timedelta(minutes=40))
            event.add("url", f"http://127.0.0.1/api/v1/appointments/{i}")
            calendar.add_component(event)
        calendar.to_ical()
        spent.append(clock.perf_counter() - started)
    return statistics.median(spent)


def p(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def main_async(args: argparse.Namespace) -> Figures:
    server = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_SERVER)
    url = await create_database(server, "signpost_bench_feeds")
    broker: LocalBroker | None = None
    service = None
    with tempfile.TemporaryDirectory(prefix="feeds-") as tmp:
        work = Path(tmp)
        try:
            bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
            if not bootstrap:
                broker = LocalBroker()
                bootstrap = broker.start()
                os.environ.setdefault("KAFKA_ENABLE_IDEMPOTENCE", "false")  # it lacks one
            token = await seed(url, args.appointments, work)
            port = free_port()
            service = start_service(url, bootstrap, work, port, 1, 5)
            base = f"http://127.0.0.1:{port}"
            await wait_healthy(base)
            feed = f"{base}/feeds/{token}.ics"
            async with aiohttp.ClientSession() as http:
                await timed_gets(http, feed, 3, {})  # warm up
                full, body, etag = await timed_gets(http, feed, args.fetches, {})
                cached, _, _ = await timed_gets(http, feed, args.fetches, {"If-None-Match": etag})
                floor, _, _ = await timed_gets(http, f"{base}/healthz", args.fetches, {})
        finally:
            if service is not None:
                service.terminate()
                service.wait(timeout=30)
            if broker is not None:
                broker.stop()
            await drop_database(server, url)
    alone = icalendar_alone(args.appointments, max(3, args.fetches // 5))
    full_p50 = statistics.median(full)
    return Figures(
        appointments=args.appointments,
        fetches=args.fetches,
        feed_bytes=len(body),
        full_p50_ms=round(full_p50 * 1000, 1),
        full_p90_ms=round(p(full, 0.9) * 1000, 1),
        not_modified_p50_ms=round(statistics.median(cached) * 1000, 2),
        not_modified_p90_ms=round(p(cached, 0.9) * 1000, 2),
        healthz_p50_ms=round(statistics.median(floor) * 1000, 2),
        icalendar_alone_ms=round(alone * 1000, 1),
        ratio=round(full_p50 / alone, 2) if alone else 0.0,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--appointments", type=int, default=2000)
    parser.add_argument("--fetches", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.appointments, args.fetches = 200, 5
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        figures = runner.run(main_async(args))
    print(f"a PA with {figures.appointments} appointments: feed of {figures.feed_bytes} bytes")
    print(
        f"full feed p50 {figures.full_p50_ms} ms, p90 {figures.full_p90_ms} ms (goal < 100 ms); "
        f"304 p50 {figures.not_modified_p50_ms} ms, p90 {figures.not_modified_p90_ms} ms "
        "(goal < 5 ms)"
    )
    print(f"the HTTP floor here (GET /healthz) p50 {figures.healthz_p50_ms} ms")
    print(
        f"icalendar alone {figures.icalendar_alone_ms} ms for the same events: "
        f"the full feed takes {figures.ratio}x that"
    )
    if args.json:
        args.json.write_text(json.dumps(asdict(figures), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
