"""`signpost directory import KIND FILE`: load a directory CSV into booking's database.

Import in this order, since later files name records from earlier ones: providers,
consortia, schools, periods, rooms, advisers, students, staff. A file with any bad row is
refused whole, with every fault listed by line and field; importing the same file again
changes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from services.booking.application.directory import KINDS, ImportResult, import_directory
from services.booking.bootstrap import MIGRATIONS
from services.booking.settings import BookingSettings
from shared.csvimport import CsvImportError, ParsedRow, parse_csv
from shared.db import Database
from shared.events import catalogue  # noqa: F401  (registers every payload schema)
from shared.migrations import upgrade
from shared.uow import UnitOfWork


def register(commands: Any) -> None:
    directory = commands.add_parser("directory", help="booking's directory of people and schools")
    actions = directory.add_subparsers(dest="directory_command", required=True)
    load = actions.add_parser(
        "import",
        help="import a CSV file of one kind",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    load.add_argument("kind", choices=list(KINDS))
    load.add_argument("file", type=Path)
    load.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return 2
    spec = KINDS[args.kind]
    try:
        rows = parse_csv(path, spec.row, unique=spec.unique)
        result = asyncio.run(write_rows(args.kind, rows, BookingSettings.from_env()))
    except CsvImportError as exc:
        print(f"{path}: refused, nothing was imported:", file=sys.stderr)
        for error in exc.errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    print(
        f"{args.kind}: {result.rows} rows, {result.written} written, {result.unchanged} unchanged",
        file=sys.stderr,
    )
    return 0


async def write_rows(
    kind: str, rows: Sequence[ParsedRow[Any]], settings: BookingSettings
) -> ImportResult:
    """All rows in one unit of work: the file lands whole or not at all."""
    db = Database(settings.database_url)
    try:
        if settings.should_migrate_on_start:
            await upgrade(db, MIGRATIONS)
        with tqdm(total=len(rows), desc=kind, unit="row", file=sys.stderr) as bar:
            async with UnitOfWork(db, producer="booking") as uow:
                return await import_directory(uow, kind, rows, progress=bar.update)
    finally:
        await db.dispose()
