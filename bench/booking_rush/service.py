"""Starting the real booking service as a subprocess, and waiting until it answers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time as clock
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


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
