"""Reminders: a crowd of messages due at the same moment, and the event path's latency.

1. Dispatch: N SMS (10,000) fall due at once on PostgreSQL; two dispatcher replicas (each
   its own connection pool) hand them to the fake Twilio server on loopback through the real
   SDK. The account's rate is RATE messages a second (default 100, what a Twilio messaging
   service with a pool of senders, or a short code, is provisioned for; a single UK long code
   is far slower), split evenly between the replicas, each enforcing its share. Prints the
   time to hand all over against the ideal N / RATE (the ratio; goal >= 0.9), the p99 lag
   from due to handed over, duplicates and lost messages (both must be 0).
2. Event path: booking-like transactions commit an appointment and its event to an outbox;
   the outbox relay publishes through the local broker; the notifications service (in
   process) consumes, writes the confirmation and its dispatcher hands it to the provider.
   Prints p50/p99 from commit to hand-over (goal p99 < 1 s).

    python -m bench.reminders                 # 10,000 messages at 100/s, 300 bookings
    python -m bench.reminders --quick         # 1,000 messages, 50 bookings
    python -m bench.reminders --json out.json

Needs a PostgreSQL server (BENCH_POSTGRES_URL, default the local one as user postgres).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import tempfile
import time as clock
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.notifications.adapters import message_store
from services.notifications.adapters.calendar import invitation
from services.notifications.adapters.channels import SmtpEmail, TwilioSms
from services.notifications.adapters.message_store import NewMessage
from services.notifications.adapters.orm import contact_owners, messages
from services.notifications.adapters.templates import Templates
from services.notifications.adapters.uow import NotificationsStorage
from services.notifications.application.contact_book import replace_contacts
from services.notifications.application.dispatch import Dispatcher
from services.notifications.application.ports import RouteDetails
from services.notifications.bootstrap import MIGRATIONS, create_app, utc_now
from services.notifications.devtools.fake_twilio import FakeTwilio
from services.notifications.settings import NotificationsSettings
from shared.db import Database
from shared.devbroker import LocalBroker, free_port
from shared.devdb import create_database, drop_database
from shared.events import catalogue  # noqa: F401  (registers every payload schema)
from shared.events.booking import AppointmentConfirmed
from shared.events.directory import Channel, ContactRole, ContactRoute, StudentUpserted
from shared.http.app import new_event_loop
from shared.messaging.kafka import KafkaPublisher
from shared.messaging.outbox import OutboxRelay
from shared.messaging.tables import metadata as messaging_metadata
from shared.migrations import upgrade
from shared.uow import UnitOfWork

DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
ACCOUNT, TOKEN = "AC" + "4" * 32, "bench-auth-token"
REPLICAS = 2


@dataclass
class Figures:
    messages: int
    rate_per_second: float
    replicas: int
    seconds: float
    ideal_seconds: float
    ratio: float
    p50_lag_s: float
    p99_lag_s: float
    duplicates: int
    lost: int
    bookings: int
    event_p50_ms: float
    event_p99_ms: float


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


async def fake_provider(callbacks: bool = True) -> tuple[FakeTwilio, web.AppRunner, str]:
    fake = FakeTwilio(ACCOUNT, TOKEN, send_callbacks=callbacks)
    runner = web.AppRunner(fake.app())
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return fake, runner, f"http://127.0.0.1:{port}"


async def due_at_once(db: Database, count: int, due: datetime) -> None:
    """`count` students with a phone, and one SMS due to each at `due`."""
    async with db.session() as s:
        for n in range(count):
            route = RouteDetails(
                role="student",
                phone=f"+4477001{n:05d}",
                email=None,
                sms_consent=True,
                email_consent=False,
                preferred=("sms",),
            )
            await replace_contacts(
                NotificationsStorage(db, clock=lambda: due).within(s),
                owner_id=f"b-{n:05d}",
                kind="student",
                school_id="s",
                revision=0,
                routes=[route],
            )
        await message_store.write(
            s,
            [
                NewMessage(
                    source=f"bench:{n}",
                    kind="reminder_same_day",
                    owner_id=f"b-{n:05d}",
                    route=0,
                    channel="sms",
                    variant="a",
                    due_at=due,
                    expires_at=due + timedelta(hours=6),
                    context={
                        "starts_at": (due + timedelta(hours=2)).isoformat(),
                        "location": "Careers room",
                    },
                )
                for n in range(count)
            ],
            due,
        )


async def replica(url: str, provider: str, rate: float) -> None:
    """One dispatcher replica, as its own process: ready, wait for "go", send until none due."""
    db = Database(url, pool_size=5)
    sms = TwilioSms(
        account_sid=ACCOUNT,
        auth_token=TOKEN,
        sender="+447700900000",
        status_callback="http://127.0.0.1:9/api/v1/twilio/status",
        base_url=provider,
        per_second=rate,
    )
    email = SmtpEmail(host="127.0.0.1", port=9, sender="bench@signpost.example")
    # A claim of about half a second's sending keeps the replicas' last batches short.
    storage = NotificationsStorage(db, clock=utc_now)
    dispatcher = Dispatcher(
        storage,
        sms=sms,
        email=email,
        clock=utc_now,
        templates=Templates(),
        invitation=invitation,
        batch=max(1, int(rate / 2)),
    )
    async with db.read_session() as s:
        await s.execute(sa.select(1))  # connected before the clock starts
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await dispatcher.dispatch_due()
    await sms.close()
    await db.dispose()


async def dispatch_crowd(server: str, count: int, rate: float) -> dict[str, Any]:
    url = await create_database(server, "signpost_bench_reminders")
    fake, runner, base = await fake_provider(callbacks=False)
    try:
        db = Database(url)
        await upgrade(db, MIGRATIONS)
        await due_at_once(db, count, datetime.now(UTC))
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.reminders",
                "--replica",
                url,
                base,
                str(rate / REPLICAS),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            for _ in range(REPLICAS)
        ]
        for proc in procs:
            assert proc.stdout is not None
            assert (await proc.stdout.readline()).strip() == b"ready"
        started, due = clock.perf_counter(), datetime.now(UTC)  # every message is due by now
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
        codes = [await proc.wait() for proc in procs]
        elapsed = clock.perf_counter() - started
        assert codes == [0] * REPLICAS, f"a replica failed: {codes}"
        async with db.read_session() as s:
            rows = (await s.execute(sa.select(messages.c.status, messages.c.handed_at))).all()
        await db.dispose()
    finally:
        await runner.cleanup()
        await drop_database(server, url)
    references = Counter(
        parse_qs(urlparse(m["status_callback"]).query)["message"][0] for m in fake.received
    )
    lags = [(r.handed_at - due).total_seconds() for r in rows if r.handed_at is not None]
    return {
        "seconds": elapsed,
        "p50_lag": percentile(lags, 0.5) if lags else 0.0,
        "p99_lag": percentile(lags, 0.99) if lags else 0.0,
        "duplicates": sum(n - 1 for n in references.values()),
        "lost": count - len(references),
        "unsent_rows": sum(1 for r in rows if r.status != "sent"),
    }


async def event_path(server: str, bootstrap: str, bookings: int, work: Path) -> list[float]:
    booking_url = await create_database(server, "signpost_bench_booking")
    notify_url = await create_database(server, "signpost_bench_notify")
    _fake, runner, base = await fake_provider()
    booking_db = Database(booking_url)
    async with booking_db.connect() as conn:
        await conn.run_sync(messaging_metadata.create_all)
    port = free_port()
    settings = NotificationsSettings.from_env(
        {
            "SIGNPOST_ENV": "test",
            "DATABASE_URL": notify_url,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "KAFKA_ENABLE_IDEMPOTENCE": os.environ.get("KAFKA_ENABLE_IDEMPOTENCE", "true"),
            "KAFKA_SESSION_TIMEOUT_MS": "6000",
            "KAFKA_GROUP_PREFIX": f"bench-{port}-",
            "SIGNPOST_DATA_DIR": str(work),
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_API_BASE_URL": base,
            "NOTIFICATIONS_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "QUIET_HOURS_START": "00:00",  # measure the path, not the clock on the wall
            "QUIET_HOURS_END": "00:00",
        }
    )
    server_ = TestServer(create_app(settings), host="127.0.0.1", port=port)
    await server_.start_server()
    publisher = await KafkaPublisher.connect(bootstrap, client_id="bench-booking")

    async def publisher_factory() -> KafkaPublisher:
        return publisher

    relay = OutboxRelay(booking_db, publisher_factory, service="bench-booking", poll_seconds=0.5)
    stop = asyncio.Event()
    relay_task = asyncio.create_task(relay.run(stop))
    committed: dict[str, float] = {}
    try:
        students = [f"e-{port}-{n:04d}" for n in range(bookings)]
        async with UnitOfWork(booking_db, producer="booking", on_commit=relay.wake) as uow:
            for n, student in enumerate(students):
                route = ContactRoute(
                    role=ContactRole.STUDENT,
                    phone=f"+4477002{n:05d}",
                    sms_consent=True,
                    preferred=[Channel.SMS],
                )
                await uow.emit(
                    StudentUpserted(
                        student_id=student, school_id="s", year_group=11, contacts=[route]
                    ),
                    key=student,
                )
            await uow.commit()
        notify_db = Database(notify_url)
        while True:  # the directory arrives long before anyone books
            async with notify_db.read_session() as s:
                known = await s.scalar(sa.select(sa.func.count()).select_from(contact_owners))
            if known == bookings:
                break
            await asyncio.sleep(0.1)
        starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
        for student in students:
            async with UnitOfWork(booking_db, producer="booking", on_commit=relay.wake) as uow:
                await uow.emit(
                    AppointmentConfirmed(
                        appointment_id=f"a-{student}",
                        revision=1,
                        school_id="s",
                        student_id=student,
                        adviser_id="pa",
                        session_type="interview",
                        starts_at=starts,
                        ends_at=starts + timedelta(minutes=40),
                        location="Careers room",
                    ),
                    key=f"a-{student}",
                )
                await uow.commit()
            committed[student] = clock.time()
            await asyncio.sleep(0.02)  # bookings arrive one after another, not in one batch
        deadline = clock.monotonic() + 60
        while clock.monotonic() < deadline:
            async with notify_db.read_session() as s:
                handed = (
                    await s.execute(
                        sa.select(messages.c.student_id, messages.c.handed_at).where(
                            messages.c.kind == "booking_confirmation",
                            messages.c.handed_at.is_not(None),
                        )
                    )
                ).all()
            if len(handed) == bookings:
                break
            await asyncio.sleep(0.2)
        await notify_db.dispose()
        return [r.handed_at.timestamp() - committed[r.student_id] for r in handed]
    finally:
        stop.set()
        await relay_task
        await publisher.close()
        await server_.close()
        await runner.cleanup()
        await booking_db.dispose()
        await drop_database(server, booking_url)
        await drop_database(server, notify_url)


async def main_async(args: argparse.Namespace) -> Figures:
    server = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_SERVER)
    crowd = await dispatch_crowd(server, args.messages, args.rate)
    broker: LocalBroker | None = None
    with tempfile.TemporaryDirectory(prefix="reminders-") as tmp:
        try:
            bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
            if not bootstrap:
                broker = LocalBroker()
                bootstrap = broker.start()
                os.environ.setdefault("KAFKA_ENABLE_IDEMPOTENCE", "false")  # it lacks one
            latencies = await event_path(server, bootstrap, args.bookings, Path(tmp))
        finally:
            if broker is not None:
                broker.stop()
    ideal = args.messages / args.rate
    return Figures(
        messages=args.messages,
        rate_per_second=args.rate,
        replicas=REPLICAS,
        seconds=round(crowd["seconds"], 2),
        ideal_seconds=round(ideal, 2),
        ratio=round(ideal / crowd["seconds"], 3),
        p50_lag_s=round(crowd["p50_lag"], 2),
        p99_lag_s=round(crowd["p99_lag"], 2),
        duplicates=crowd["duplicates"],
        lost=crowd["lost"] + crowd["unsent_rows"],
        bookings=len(latencies),
        event_p50_ms=round(percentile(latencies, 0.5) * 1000, 1) if latencies else -1.0,
        event_p99_ms=round(percentile(latencies, 0.99) * 1000, 1) if latencies else -1.0,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=100.0, help="the account's SMS per second")
    parser.add_argument("--bookings", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--replica", nargs=3, metavar=("DB", "PROVIDER", "RATE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.replica:
        url, provider, rate = args.replica
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            runner.run(replica(url, provider, float(rate)))
        return 0
    if args.quick:
        args.messages, args.bookings = 1000, 50
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        f = runner.run(main_async(args))
    print(
        f"{f.messages} SMS due at once, {f.replicas} dispatcher replicas on PostgreSQL, "
        f"{f.rate_per_second:g}/s for the account"
    )
    print(
        f"handed over in {f.seconds:.2f} s; ideal at that rate {f.ideal_seconds:.2f} s; "
        f"ratio {f.ratio:.3f} (goal >= 0.9)"
    )
    print(
        f"lag due -> handed over: p50 {f.p50_lag_s:.2f} s, p99 {f.p99_lag_s:.2f} s; "
        f"duplicates {f.duplicates}, lost {f.lost}"
    )
    print(
        f"event path, booking committed -> confirmation handed over ({f.bookings} bookings): "
        f"p50 {f.event_p50_ms:.0f} ms, p99 {f.event_p99_ms:.0f} ms (goal p99 < 1000 ms)"
    )
    if args.json:
        args.json.write_text(json.dumps(asdict(f), indent=2) + "\n")
    return 0 if f.duplicates == 0 and f.lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
