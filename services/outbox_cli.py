"""`signpost outbox failed SERVICE`: list a service's parked outbox rows.
`signpost outbox retry SERVICE [--id N]`: put parked rows (or row N) back for the relay.

A row is parked after the broker refused it `OUTBOX_MAX_ATTEMPTS` times; later rows of its
key wait behind it. Deal with the cause first (the error names its class), then retry: the
running service's relay publishes the row within a poll, and the rows that waited after it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from services.registry import entries
from shared.messaging.maintenance import NotParked, ParkedRow, parked_rows, retry_parked
from shared.migrations import database_for_task

COLUMNS = ("seq", "type", "key", "attempts", "error", "failed_at")


def register(commands: Any) -> None:
    outbox = commands.add_parser("outbox", help="a service's outbox: parked rows")
    actions = outbox.add_subparsers(dest="outbox_command", required=True)
    services = list(entries())
    failed = actions.add_parser("failed", help="list the rows parked after the broker refused them")
    failed.add_argument("service", choices=services)
    failed.set_defaults(handler=run_failed)
    retry = actions.add_parser("retry", help="put parked rows back for the relay")
    retry.add_argument("service", choices=services)
    retry.add_argument("--id", type=int, dest="seq", metavar="N", help="only row N (its seq)")
    retry.set_defaults(handler=run_retry)


def run_failed(args: argparse.Namespace) -> int:
    rows = asyncio.run(_with_database(args.service, parked_rows))
    if not rows:
        print(f"{args.service}: no parked outbox rows", file=sys.stderr)
        return 0
    print(_table(rows))
    return 0


def run_retry(args: argparse.Namespace) -> int:
    try:
        count = asyncio.run(_with_database(args.service, lambda db: retry_parked(db, args.seq)))
    except NotParked as exc:
        print(f"{args.service}: {exc}; nothing was changed", file=sys.stderr)
        return 1
    print(f"{args.service}: {count} parked rows put back for the relay", file=sys.stderr)
    return 0


async def _with_database(service: str, work: Any) -> Any:
    entry = entries()[service]
    settings = entry.settings_type.from_env()
    async with database_for_task(
        settings.database_url, entry.migrations, migrate=settings.should_migrate_on_start
    ) as db:
        return await work(db)


def _table(rows: list[ParkedRow]) -> str:
    cells = [
        (
            str(r.seq),
            r.event_type,
            r.key,
            str(r.attempts),
            r.last_error or "",
            r.failed_at.isoformat(timespec="seconds") if r.failed_at else "",
        )
        for r in rows
    ]
    widths = [max(len(c) for c in column) for column in zip(COLUMNS, *cells, strict=False)]
    lines = [COLUMNS, *cells]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )
