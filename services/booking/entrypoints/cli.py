"""`signpost directory import KIND FILE`: load a directory CSV into booking's database.
`signpost directory erase-student ID --by NAME`: erase a student's record.

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
from datetime import timedelta
from pathlib import Path
from typing import Any

from tqdm import tqdm

from services.booking.application.directory import ImportDirectory, ImportResult, import_directory
from services.booking.application.directory_records import KINDS
from services.booking.application.erasure import EraseStudent, Erasure, erase_student
from services.booking.bootstrap import MIGRATIONS, task_unit_of_work, utc_now
from services.booking.domain.errors import UnknownStudent
from services.booking.domain.model import Role
from services.booking.settings import BookingSettings
from shared.csvimport import CsvImportError, ParsedRow, parse_csv
from shared.events import catalogue  # noqa: F401  (registers every payload schema)
from shared.logging import configure_logging, get_logger
from shared.migrations import database_for_task

log = get_logger(__name__)


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
    erase = actions.add_parser(
        "erase-student",
        help="erase a student's record (upcoming appointments cancelled, history anonymised)",
    )
    erase.add_argument("student_id")
    erase.add_argument(
        "--by", required=True, help="who asked for the erasure (recorded in the audit log)"
    )
    erase.set_defaults(handler=run_erase)


def run_erase(args: argparse.Namespace) -> int:
    settings = BookingSettings.from_env()
    configure_logging(settings.service, settings.log_level)
    try:
        erased = asyncio.run(erase(args.student_id, settings))
    except UnknownStudent:
        print(f"{args.student_id}: no such student; nothing was changed", file=sys.stderr)
        return 1
    log.info("directory.student_erased", student_id=erased.student_id, by=args.by, role="cli")
    print(
        f"{erased.student_id}: erased; {erased.cancelled_appointments} upcoming appointments "
        f"cancelled, {erased.kept_anonymously} kept anonymously",
        file=sys.stderr,
    )
    return 0


async def erase(student_id: str, settings: BookingSettings) -> Erasure:
    async with (
        database_for_task(
            settings.database_url, MIGRATIONS, migrate=settings.should_migrate_on_start
        ) as db,
        task_unit_of_work(db) as uow,
    ):
        return await erase_student(
            EraseStudent(student_id, Role.ADMIN),
            uow,
            utc_now(),
            timedelta(seconds=settings.waitlist_offer_seconds),
            token_ttl=timedelta(seconds=settings.token_ttl_seconds),
        )


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
    async with database_for_task(
        settings.database_url, MIGRATIONS, migrate=settings.should_migrate_on_start
    ) as db:
        with tqdm(total=len(rows), desc=kind, unit="row", file=sys.stderr) as bar:
            async with task_unit_of_work(db) as uow:
                cmd = ImportDirectory(kind, rows)
                return await import_directory(cmd, uow, utc_now(), progress=bar.update)
