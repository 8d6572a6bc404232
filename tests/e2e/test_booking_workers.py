"""Booking with several worker processes on one port, as a rush is served on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from shared.devbroker import free_port
from tests.conftest import eventually

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


def listening_pids(port: int) -> set[int]:
    """The processes holding a listening TCP socket on `port` (read from /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            next(rows)
            for row in rows:
                fields = row.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{inode}]")
    pids = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{entry}/fd")
            if any(os.readlink(f"/proc/{entry}/fd/{fd}") in inodes for fd in fds):
                pids.add(int(entry))
        except OSError:  # gone, or not ours to read
            continue
    return pids


@pytest.fixture
def booking_with_two_workers(
    broker: str, postgres_url: str, tmp_path: Path
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        **os.environ,
        "SIGNPOST_ENV": "development",
        "SIGNPOST_DATA_DIR": str(tmp_path),
        "DATABASE_URL": postgres_url,
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "BOOKING_HTTP_PORT": str(port),
        "BOOKING_WORKERS": "2",
    }
    with open(tmp_path / "booking.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.booking"],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    yield process, port
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=30)


async def healthy(port: int) -> bool:
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/healthz") as response,
        ):
            return response.status == 200
    except aiohttp.ClientError:
        return False


async def both_listening(port: int) -> set[int]:
    """The two processes serving `port`, once both are listening."""
    found: set[int] = await eventually(
        lambda: len(listening_pids(port)) == 2 and listening_pids(port), timeout=60
    )
    return found


async def test_two_processes_serve_the_one_port(
    booking_with_two_workers: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = booking_with_two_workers
    await eventually(lambda: healthy(port), timeout=60)
    pids = await both_listening(port)
    assert process.pid in pids


async def test_the_workers_stop_with_the_service(
    booking_with_two_workers: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = booking_with_two_workers
    pids = await both_listening(port)
    process.terminate()
    assert process.wait(timeout=30) == 0
    await eventually(lambda: not any(os.path.exists(f"/proc/{pid}") for pid in pids))


async def test_the_service_stops_when_a_worker_dies(
    booking_with_two_workers: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = booking_with_two_workers
    pids = await both_listening(port)
    (worker,) = pids - {process.pid}
    os.kill(worker, signal.SIGKILL)
    await eventually(lambda: process.poll() is not None, timeout=30)
    assert process.returncode != 0
