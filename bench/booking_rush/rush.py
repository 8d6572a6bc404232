"""The rush itself: students book a released week through concurrent clients; then the
check that nobody was booked twice."""

from __future__ import annotations

import asyncio
import time as clock
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import aiohttp
import asyncpg

from bench.booking_rush.cohort import SCHOOL, released_week, session_id, student_id, warm_up_size
from shared.auth.keys import ensure_dev_keypair
from shared.auth.principal import Role
from shared.auth.tokens import TokenIssuer
from shared.devdb import asyncpg_dsn


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
