"""Runs the booking rush: `python -m bench.booking_rush --help` for the options."""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import bench.booking_rush as package
from bench.booking_rush.cohort import SLOTS_PER_ADVISER_WEEK, warm_up_size
from bench.booking_rush.pgbench import max_connections, pgbench_script, run_pgbench
from bench.booking_rush.report import Figures, Sizes, figures_of, print_report, write_json
from bench.booking_rush.rush import double_bookings, rush
from bench.booking_rush.seeding import seed
from bench.booking_rush.service import DEFAULT_SERVER, start_service, wait_healthy
from shared.devbroker import LocalBroker, free_port
from shared.devdb import create_database, drop_database
from shared.events import catalogue  # noqa: F401  (registers every payload schema)
from shared.http.app import new_event_loop


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
    sizes = Sizes(args.students, args.clients, args.workers, args.pool_size, advisers)
    return figures_of(sizes, statuses, latencies, elapsed, doubles, limit, tps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.booking_rush",
        description=package.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    print_report(figures)
    if args.json:
        write_json(figures, args.json)
    return 0 if figures.double_bookings == 0 and figures.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
