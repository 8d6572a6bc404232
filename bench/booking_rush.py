"""Booking rush: a year group books a school's newly released week of interview slots at once.

Runs the real booking service (a subprocess) against PostgreSQL and a local broker, then N
students book through C concurrent HTTP clients. Prints bookings per second, p50/p99
latency and double bookings (which must be 0). In the same run, on the same server, pgbench
runs the SQL one booking runs (as a pgbench script at the same concurrency, capped by the
server's connection limit); the ratio of the two rates is what Python, aiohttp and
SQLAlchemy cost on top of the database.

    python -m bench.booking_rush                 # 500 students, 200 clients
    python -m bench.booking_rush --quick         # a smoke run in well under a minute
    python -m bench.booking_rush --json out.json

Needs a PostgreSQL server (BENCH_POSTGRES_URL, default the local one as user postgres) and
`pgbench` on the PATH (Debian: postgresql-contrib or postgresql-client).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time as clock
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

from services.booking.adapters.orm import accounts, sessions, students
from services.booking.application.agreements import (
    AgreementTerms,
    AttendanceTerms,
    SaveAgreement,
    academic_year_of,
    save_agreement,
)
from services.booking.application.directory import ImportDirectory, import_directory
from services.booking.application.directory_rows import AdviserRow, PeriodRow, SchoolRow
from services.booking.bootstrap import MIGRATIONS, task_unit_of_work
from services.booking.domain.model import LONGEST_SESSION_MINUTES
from shared.auth.keys import ensure_dev_keypair
from shared.auth.principal import Role
from shared.auth.tokens import TokenIssuer
from shared.csvimport import ParsedRow
from shared.db import Database
from shared.devbroker import LocalBroker, free_port
from shared.devdb import asyncpg_dsn, create_database, drop_database
from shared.events import catalogue  # noqa: F401  (registers every payload schema)
from shared.http.app import new_event_loop
from shared.migrations import upgrade

SCHOOL = "bench-school"
SLOTS_PER_ADVISER_WEEK = 50  # 08:30-15:30 in 40-minute interviews, Monday to Friday
REPO = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


@dataclass
class Figures:
    students: int
    clients: int
    workers: int
    pool_size: int
    advisers: int
    booked: int
    refused: int
    errors: int
    seconds: float
    bookings_per_second: float
    p50_ms: float
    p99_ms: float
    double_bookings: int
    pgbench_clients: int
    pgbench_tps: float
    ratio: float


def student_id(n: int) -> str:
    return f"bench-student-{n:06d}"


def session_id(n: int) -> str:
    return str(uuid.UUID(int=n + 1))


def released_week() -> date:
    """The Monday of next week: the week the school has just released."""
    today = date.today()
    return today + timedelta(days=7 - today.weekday())


async def seed(url: str, n_students: int, n_advisers: int) -> None:
    """One school, its advisers every weekday all day, and `n_students` students."""
    db = Database(url)
    try:
        await upgrade(db, MIGRATIONS)
        week = released_week()
        rows: dict[str, list[Any]] = {
            "schools": [SchoolRow(id=SCHOOL, name="Rush Academy")],
            "periods": [
                PeriodRow(
                    school_id=SCHOOL,
                    kind="term",
                    first_day=week - timedelta(days=60),
                    last_day=week + timedelta(days=60),
                )
            ],
            "advisers": [
                AdviserRow(
                    id=f"bench-pa-{a:02d}",
                    name=f"Adviser {a}",
                    kinds=["guidance"],
                    email=f"pa{a}@bench.example",
                    schools=[SCHOOL],
                )
                for a in range(n_advisers)
            ],
        }
        for kind, records in rows.items():
            async with task_unit_of_work(db) as uow:
                cmd = ImportDirectory(kind, [ParsedRow(2, r) for r in records])
                await import_directory(cmd, uow, datetime.now(UTC))
        async with db.session() as s:
            await s.execute(
                students.insert(),
                [
                    {
                        "id": student_id(n),
                        "school_id": SCHOOL,
                        "year_group": 11,
                        "priority_flags": [],
                    }
                    for n in range(n_students)
                ],
            )
            # Each student signed in: an account and an open session, which every booking
            # request checks (the service remembers an active session for a few seconds).
            now = datetime.now(UTC)
            await s.execute(
                accounts.insert(),
                [
                    {
                        "id": student_id(n),
                        "email": f"{student_id(n)}@bench.example",
                        "role": Role.STUDENT.value,
                        "school_ids": [SCHOOL],
                        "person_id": student_id(n),
                        "created_at": now,
                    }
                    for n in range(n_students)
                ],
            )
            await s.execute(
                sessions.insert(),
                [
                    {
                        "id": session_id(n),
                        "account_id": student_id(n),
                        "created_at": now,
                        "expires_at": now + timedelta(hours=8),
                    }
                    for n in range(n_students)
                ],
            )
        terms = AgreementTerms(
            confidential_room="Careers room",
            attendances=[
                AttendanceTerms(adviser_id=f"bench-pa-{a:02d}", weekdays=[0, 1, 2, 3, 4])
                for a in range(n_advisers)
            ],
            minimum_notice_minutes=0,
            horizon_days=28,
            priority_share=0.0,
        )
        for year in {academic_year_of(week), academic_year_of(week + timedelta(days=6))}:
            async with task_unit_of_work(db) as uow:
                await save_agreement(SaveAgreement(SCHOOL, year, terms), uow, datetime.now(UTC))
    finally:
        await db.dispose()


def start_service(
    url: str, broker: str, data_dir: Path, port: int, workers: int, pool_size: int
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SIGNPOST_ENV": "development",
        "DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "BOOKING_HTTP_PORT": str(port),
        "SIGNPOST_DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
        "BOOKING_WORKERS": str(workers),
        "DATABASE_POOL_SIZE": str(pool_size),
    }
    log = (data_dir / "booking.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "services.booking"],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


async def wait_healthy(base: str, deadline: float = 60) -> None:
    end = clock.monotonic() + deadline
    async with aiohttp.ClientSession() as http:
        while clock.monotonic() < end:
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the booking service did not become healthy")


async def rush(
    base: str, data_dir: Path, n_students: int, n_clients: int
) -> tuple[Counter[int], list[float], float]:
    keys = ensure_dev_keypair(data_dir / "keys")
    issuer = TokenIssuer(keys.private_pem, issuer="signpost-booking", ttl=timedelta(minutes=30))
    staff = issuer.issue(user_id="bench-coordinator", role=Role.COORDINATOR, school_ids=[SCHOOL])
    week = datetime.combine(released_week(), time(0), tzinfo=UTC)
    tokens = [
        issuer.issue(
            user_id=student_id(n), role=Role.STUDENT, school_ids=[SCHOOL], session_id=session_id(n)
        )
        for n in range(n_students + warm_up_size(n_clients))
    ]
    connector = aiohttp.TCPConnector(limit=n_clients)
    async with aiohttp.ClientSession(connector=connector) as http:
        # The warm-up books the week after at full concurrency, so that the measured rush
        # meets a service in its steady state (every pooled connection open, statements
        # prepared), as a rush in term time would, rather than one that has just started.
        later = await week_of_slots(http, base, staff, week + timedelta(days=7))
        await book_all(http, base, later, tokens[n_students:], n_clients)
        times = await week_of_slots(http, base, staff, week)
        return await book_all(http, base, times, tokens[:n_students], n_clients)


def warm_up_size(n_clients: int) -> int:
    return 2 * n_clients


async def week_of_slots(
    http: aiohttp.ClientSession, base: str, staff: str, monday: datetime
) -> list[str]:
    async with http.get(
        f"{base}/api/v1/slots",
        params={
            "school_id": SCHOOL,
            "from": monday.isoformat(),
            "to": (monday + timedelta(days=5)).isoformat(),
        },
        headers={"Authorization": f"Bearer {staff}"},
    ) as response:
        return [s["starts_at"] for s in (await response.json())["slots"]]


async def book_all(
    http: aiohttp.ClientSession, base: str, times: list[str], tokens: list[str], n_clients: int
) -> tuple[Counter[int], list[float], float]:
    """Each token books one of `times` (round robin) through `n_clients` concurrent clients."""
    work: asyncio.Queue[int] = asyncio.Queue()
    for n in range(len(tokens)):
        work.put_nowait(n)
    statuses: Counter[int] = Counter()
    latencies: list[float] = []

    async def client() -> None:
        while not work.empty():
            n = work.get_nowait()
            body = {"slot": {"school_id": SCHOOL, "starts_at": times[n % len(times)]}}
            began = clock.perf_counter()
            try:
                async with http.post(
                    f"{base}/api/v1/appointments",
                    json=body,
                    headers={"Authorization": f"Bearer {tokens[n]}"},
                ) as response:
                    await response.read()
                    statuses[response.status] += 1
            except aiohttp.ClientError:
                statuses[0] += 1
            latencies.append(clock.perf_counter() - began)

    began = clock.perf_counter()
    await asyncio.gather(*(client() for _ in range(n_clients)))
    return statuses, latencies, clock.perf_counter() - began


DOUBLE_BOOKINGS = """
SELECT count(*) FROM appointments a JOIN appointments b
  ON a.id < b.id AND a.status = 'confirmed' AND b.status = 'confirmed'
 AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
 AND (a.student_id = b.student_id OR (a.adviser_id = b.adviser_id AND a.place_key <> b.place_key))
"""


async def double_bookings(url: str) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return int(await conn.fetchval(DOUBLE_BOOKINGS))
    finally:
        await conn.close()


def pgbench_script(n_students: int, n_advisers: int) -> str:
    """The statements one booking runs (see adapters/booking_reads.py).

    First the check that the token's session is still open (a read of its own, as the
    service makes it the first time it meets a session). Then, with the school, its
    calendar, the agreement and the advisers' kinds held in memory for a few seconds, one
    transaction reads once (a UNION ALL of the student, calendar time, waitlist offers, the
    day's loads and the appointments around the slot), inserts the appointment and its
    outbox event, and commits. Times are random minutes over ten years and advisers are per
    client, so the inserts rarely collide; a collision is absorbed by ON CONFLICT DO
    NOTHING, which still costs the exclusion-constraint check a real booking pays. (A
    student without priority flags reads no history, as in the rush.)
    """
    advisers = "ARRAY[" + ", ".join(f"'bench-pa-{a:02d}'" for a in range(n_advisers)) + "]"
    student = "('bench-student-' || lpad(:n::text, 6, '0'))"
    adviser = "('pgbench-' || :client_id)"
    slot = "(timestamptz '2030-01-01' + :minute * interval '1 minute')"
    end = f"({slot} + interval '40 minutes')"
    day = f"date_trunc('day', {slot})"
    return f"""\\set n random(0, {n_students - 1})
\\set minute random(0, 5256000)
SELECT * FROM sessions WHERE id = lpad(to_hex(:n + 1), 32, '0')::uuid::text;
BEGIN;
SELECT 'busy', NULL, adviser_id, starts_at, ends_at, NULL, NULL FROM adviser_busy
  WHERE adviser_id = ANY({advisers}) AND starts_at < {end} AND ends_at > {slot}
UNION ALL SELECT 'student', id, school_id, NULL, NULL, year_group, CAST(priority_flags AS TEXT)
  FROM students WHERE id = {student}
UNION ALL SELECT 'offer', student_id, adviser_id, starts_at, ends_at, NULL, NULL
  FROM waitlist_offers WHERE status = 'open'
  AND (adviser_id = ANY({advisers}) AND starts_at < {end} AND ends_at > {slot}
  OR student_id = {student} AND starts_at = {slot})
UNION ALL SELECT 'load', NULL, adviser_id, NULL, NULL, sum(minutes), NULL FROM appointments
  WHERE school_id = '{SCHOOL}' AND adviser_id = ANY({advisers}) AND status != 'cancelled'
  AND starts_at >= {day} AND starts_at < {day} + interval '1 day'
  GROUP BY adviser_id
UNION ALL SELECT 'appointment', id, adviser_id, starts_at, ends_at, capacity, student_id
  FROM appointments WHERE status = 'confirmed' AND starts_at < {end} AND ends_at > {slot}
  AND starts_at >= {slot} - interval '{LONGEST_SESSION_MINUTES} minutes'
  AND (adviser_id = ANY({advisers}) OR student_id = {student});
INSERT INTO appointments (id, school_id, student_id, adviser_id, session_type, starts_at,
  ends_at, minutes, location, status, revision, place_key, seat, capacity, booked_by,
  created_at, updated_at)
  SELECT u, '{SCHOOL}', {student}, {adviser}, 'interview', {slot},
  {end}, 40, 'Careers room', 'confirmed', 1, u, 1, 1, 'student',
  now(), now()
  FROM (SELECT gen_random_uuid()::text AS u) AS p
  ON CONFLICT DO NOTHING;
INSERT INTO outbox (event_id, topic, key, event_type, body, created_at)
  VALUES (gen_random_uuid()::text, 'booking.events', gen_random_uuid()::text,
  'booking.appointment.confirmed', repeat('x', 420), now());
COMMIT;
"""


def run_pgbench(url: str, script: str, clients: int, seconds: int, work: Path) -> float:
    path = work / "booking.sql"
    path.write_text(script)
    parsed = make_url(url)
    command = [
        shutil.which("pgbench") or "pgbench",
        "-n",
        "-c",
        str(clients),
        "-j",
        str(min(clients, os.cpu_count() or 2)),
        "-T",
        str(seconds),
        "-f",
        str(path),
        "-h",
        parsed.host or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
        parsed.database or "postgres",
    ]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PGPASSWORD": parsed.password or ""},
    )
    found = re.search(r"tps = ([\d.]+)", done.stdout)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"pgbench failed: {done.stderr or done.stdout}")
    return float(found.group(1))


async def max_connections(url: str) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return int(await conn.fetchval("SHOW max_connections"))
    finally:
        await conn.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


async def main_async(args: argparse.Namespace) -> Figures:
    server = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_SERVER)
    advisers = math.ceil(args.students / SLOTS_PER_ADVISER_WEEK) + 2
    url = await create_database(server, "signpost_bench")
    broker: LocalBroker | None = None
    service: subprocess.Popen[bytes] | None = None
    with tempfile.TemporaryDirectory(prefix="booking-rush-") as tmp:
        work = Path(tmp)
        try:
            bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
            if not bootstrap:
                broker = LocalBroker()
                bootstrap = broker.start()
                os.environ.setdefault("KAFKA_ENABLE_IDEMPOTENCE", "false")  # it lacks one
            await seed(url, args.students + warm_up_size(args.clients), advisers)
            port = free_port()
            service = start_service(url, bootstrap, work, port, args.workers, args.pool_size)
            base = f"http://127.0.0.1:{port}"
            await wait_healthy(base)
            statuses, latencies, elapsed = await rush(base, work, args.students, args.clients)
            service.terminate()
            service.wait(timeout=30)
            service = None
            doubles = await double_bookings(url)
            limit = max(1, min(args.clients, await max_connections(url) - 20))
            tps = run_pgbench(
                url, pgbench_script(args.students, advisers), limit, args.pgbench_seconds, work
            )
        finally:
            if service is not None:
                service.kill()
            if broker is not None:
                broker.stop()
            await drop_database(server, url)
    booked = statuses.get(201, 0)
    rate = booked / elapsed
    return Figures(
        students=args.students,
        clients=args.clients,
        workers=args.workers,
        pool_size=args.pool_size,
        advisers=advisers,
        booked=booked,
        refused=statuses.get(409, 0),
        errors=sum(v for k, v in statuses.items() if k not in (201, 409)),
        seconds=round(elapsed, 3),
        bookings_per_second=round(rate, 1),
        p50_ms=round(statistics.median(latencies) * 1000, 1),
        p99_ms=round(percentile(latencies, 0.99) * 1000, 1),
        double_bookings=doubles,
        pgbench_clients=limit,
        pgbench_tps=round(tps, 1),
        ratio=round(rate / tps, 3) if tps else 0.0,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--pgbench-seconds", type=int, default=15)
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="booking processes sharing the port (default: one per core)",
    )
    parser.add_argument(
        "--pool-size",
        type=int,
        default=(os.cpu_count() or 1) + 1,
        help="database connections per booking process (default: cores + 1; the database "
        "shares this machine's cores)",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.students, args.clients, args.pgbench_seconds = 60, 20, 3
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        figures = runner.run(main_async(args))
    print(
        f"students {figures.students}, clients {figures.clients}, "
        f"booking workers {figures.workers} with {figures.pool_size} database connections "
        f"each, advisers {figures.advisers}"
    )
    print(
        f"booked {figures.booked}, refused {figures.refused}, errors {figures.errors} "
        f"in {figures.seconds:.2f} s"
    )
    print(
        f"bookings/s {figures.bookings_per_second:.1f}   p50 {figures.p50_ms:.1f} ms   "
        f"p99 {figures.p99_ms:.1f} ms   double bookings {figures.double_bookings}"
    )
    print(
        f"pgbench (same SQL, {figures.pgbench_clients} clients) {figures.pgbench_tps:.1f} tps"
        f"   ratio {figures.ratio:.3f}"
    )
    if figures.pgbench_clients < figures.clients:
        print(
            f"(pgbench ran {figures.pgbench_clients} clients, not {figures.clients}: the "
            "server's max_connections less 20 kept for others)"
        )
    if args.json:
        args.json.write_text(json.dumps(asdict(figures), indent=2) + "\n")
    return 0 if figures.double_bookings == 0 and figures.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
