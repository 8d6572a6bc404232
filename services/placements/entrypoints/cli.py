"""`signpost placements ...`: the EBP operator's commands.

import-employers FILE [--ebp ID]   add or update employers and placements from CSV
export-employers [-o FILE]         the catalogue as CSV, in the import format
vetting [--days N]                 checks lapsed or lapsing within N days (default 30)
run ROUND [--seed N]               run a matching, with a progress bar, and print its measures
runs ROUND                         every run of a round with its headline measures
compare ROUND FIRST SECOND         two runs side by side
publish ROUND RUN                  publish a run's allocations (events leave via the outbox)
export ROUND [--run RUN] [-o FILE] published allocations (or a run's) as CSV
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from services.placements.adapters.uow import PlacementsReads, PlacementsUnitOfWork
from services.placements.application import employers as employer_cases
from services.placements.application import publication, runs
from services.placements.application.errors import NotFound, PlacementsError
from services.placements.application.partnership_import import (
    ImportForPartnership,
    import_for_partnership,
)
from services.placements.application.ports import (
    EXPORT_COLUMNS,
    PlacementsRepositories,
    RoundRecord,
)
from services.placements.bootstrap import MIGRATIONS, PRODUCER
from services.placements.domain.matching import STAGES
from services.placements.domain.vetting import vetting_warnings
from services.placements.settings import PlacementsSettings
from shared.csvimport import CsvImportError
from shared.db import Database
from shared.events import catalogue  # noqa: F401  (registers every payload schema)
from shared.migrations import database_for_task


@dataclass(frozen=True)
class Store:
    db: Database

    def unit_of_work(self) -> PlacementsUnitOfWork:
        # The running service's relay publishes what commands write to the outbox.
        return PlacementsUnitOfWork(self.db, producer=PRODUCER)

    @asynccontextmanager
    async def reads(self) -> AsyncIterator[PlacementsReads]:
        async with self.db.read_session() as session:
            yield PlacementsReads(session)

    async def round(self, round_id: str) -> RoundRecord:
        async with self.reads() as reads:
            return await _round(reads, round_id)


def _now() -> datetime:
    return datetime.now(UTC)


async def _round(
    repositories: PlacementsRepositories, round_id: str, *, for_update: bool = False
) -> RoundRecord:
    """The round, read in the transaction that is about to change it with `for_update`."""
    record = await repositories.rounds.get(round_id, for_update=for_update)
    if record is None:
        raise NotFound(f"No allocation round {round_id}.")
    return record


@asynccontextmanager
async def _store() -> AsyncIterator[Store]:
    settings = PlacementsSettings.from_env()
    async with database_for_task(
        settings.database_url, MIGRATIONS, migrate=settings.should_migrate_on_start
    ) as db:
        yield Store(db)


def _command(work: Callable[[Store, argparse.Namespace], Awaitable[int]]) -> Callable[..., int]:
    def handler(args: argparse.Namespace) -> int:
        async def main() -> int:
            async with _store() as store:
                return await work(store, args)

        try:
            return asyncio.run(main())
        except CsvImportError as exc:
            print(
                f"{args.file}: nothing was imported; fix these rows and try again:", file=sys.stderr
            )
            for error in exc.errors:
                print(f"  {error}", file=sys.stderr)
            return 1
        except PlacementsError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 1

    return handler


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


async def import_employers(store: Store, args: argparse.Namespace) -> int:
    if not args.file.is_file():
        print(f"{args.file}: no such file", file=sys.stderr)
        return 1
    rows = employer_cases.read_employers_file(args.file)
    async with store.unit_of_work() as uow:
        if args.ebp is None:  # employers of no partnership: an operator's import
            summary = await employer_cases.import_employers(
                employer_cases.ImportEmployers(rows), uow
            )
        else:  # for one partnership, under the rule its staff's pages import by
            summary = await import_for_partnership(ImportForPartnership(rows, args.ebp), uow)
    print(
        f"{len(rows)} rows: {summary.employers_added} employers added, "
        f"{summary.employers_updated} updated; {summary.placements_added} placements added, "
        f"{summary.placements_updated} updated, {summary.unchanged} unchanged; "
        f"{summary.sectors_normalised} sector names normalised"
    )
    return 0


async def export_employers(store: Store, args: argparse.Namespace) -> int:
    async with store.reads() as reads:
        _write(await employer_cases.export_employers(reads), args.output)
    return 0


async def vetting(store: Store, args: argparse.Namespace) -> int:
    async with store.reads() as reads:
        catalogue = [entry.placement for entry in await reads.catalogue.entries(None)]
    found = vetting_warnings(catalogue, _now().date(), args.days)
    for w in found:
        state = "EXPIRED" if w.expired else "expires"
        print(f"{w.employer_id}  {w.placement_id}  {w.check.value:<17} {state} {w.expires}")
    print(f"{len(found)} checks lapsed or lapsing within {args.days} days", file=sys.stderr)
    return 0


async def run(store: Store, args: argparse.Namespace) -> int:
    async with store.unit_of_work() as uow:
        record = await _round(uow, args.round, for_update=True)
        cmd = runs.RequestRun(record, args.seed, "cli")
        run_id = (await runs.request_run(cmd, uow, _now())).id
    with tqdm(total=len(STAGES) + 1, desc="matching", unit="stage", file=sys.stderr) as bar:

        def progress(stage: str, done: int, total: int) -> None:
            bar.total = total
            bar.set_description(stage)
            bar.update(done - bar.n)

        await runs.execute_run(store.reads, store.unit_of_work, run_id, _now, progress=progress)
    async with store.reads() as reads:
        summary = await runs.get_run(reads, record, run_id)
    if summary.status != runs.COMPLETED:
        print(f"run {run_id} failed: {summary.error}", file=sys.stderr)
        return 1
    print(f"run {run_id}")
    print(json.dumps(_headline(summary.report or {}), indent=2))
    return 0


def _headline(report: dict[str, Any]) -> dict[str, Any]:
    keys = (*runs.COMPARED_MEASURES, "rank_distribution", "unplaced_by_reason")
    return {k: report.get(k) for k in keys}


async def list_runs(store: Store, args: argparse.Namespace) -> int:
    record = await store.round(args.round)
    async with store.reads() as reads:
        found = await runs.list_runs(reads, record)
    for r in found:
        report = r.report or {}
        print(
            f"{r.id}  seed={r.seed:<6} {r.status:<9} placed={report.get('placed', '-')} "
            f"lowest_rate_ratio={report.get('lowest_rate_ratio', '-')} "
            f"blocking_pairs={report.get('blocking_pairs', '-')}"
        )
    return 0


async def compare(store: Store, args: argparse.Namespace) -> int:
    record = await store.round(args.round)
    async with store.reads() as reads:
        comparison = await runs.compare_runs(reads, record, args.first, args.second)
    for name, pair in comparison.measures.items():
        print(f"{name:<26} {pair['first']!s:>12} {pair['second']!s:>12}")
    print(
        f"{comparison.students_moved} students move, "
        f"{comparison.students_placed_only_in_first} placed only in the first, "
        f"{comparison.students_placed_only_in_second} placed only in the second"
    )
    return 0


async def publish(store: Store, args: argparse.Namespace) -> int:
    async with store.unit_of_work() as uow:
        record = await _round(uow, args.round, for_update=True)
        cmd = publication.PublishRun(record, args.run)
        published = await publication.publish_run(cmd, uow, _now())
    print(f"published {published.allocations} allocations to {published.employers} employers")
    return 0


async def export_round(store: Store, args: argparse.Namespace) -> int:
    record = await store.round(args.round)
    async with store.reads() as reads:
        if args.run:
            await runs.get_run(reads, record, args.run)
        elif record.published_run_id is None:
            raise PlacementsError("The round is not published yet; name a run with --run.")
        rows = await reads.allocations.exported(record.id, args.run)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(tuple(r[c] for c in EXPORT_COLUMNS) for r in rows)
    _write(out.getvalue(), args.output)
    print(f"{len(rows)} allocations exported", file=sys.stderr)
    return 0


def register(subparsers: Any) -> None:
    group = subparsers.add_parser(
        "placements",
        help="work-experience placements: employers, matching runs, publication",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = group.add_subparsers(dest="placements_command", required=True)

    p = commands.add_parser("import-employers", help="add or update employers from a CSV file")
    p.add_argument("file", type=Path)
    p.add_argument("--ebp", default=None, help="the partnership that owns these employers")
    p.set_defaults(handler=_command(import_employers))

    p = commands.add_parser("export-employers", help="write the catalogue as CSV")
    p.add_argument("-o", "--output", type=Path, default=None)
    p.set_defaults(handler=_command(export_employers))

    p = commands.add_parser("vetting", help="list checks lapsed or lapsing soon")
    p.add_argument("--days", type=int, default=30)
    p.set_defaults(handler=_command(vetting))

    p = commands.add_parser("run", help="run a matching for a round")
    p.add_argument("round")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(handler=_command(run))

    p = commands.add_parser("runs", help="list a round's runs")
    p.add_argument("round")
    p.set_defaults(handler=_command(list_runs))

    p = commands.add_parser("compare", help="compare two runs of a round")
    p.add_argument("round")
    p.add_argument("first")
    p.add_argument("second")
    p.set_defaults(handler=_command(compare))

    p = commands.add_parser("publish", help="publish a run's allocations")
    p.add_argument("round")
    p.add_argument("run")
    p.set_defaults(handler=_command(publish))

    p = commands.add_parser("export", help="write a round's allocations as CSV")
    p.add_argument("round")
    p.add_argument("--run", default=None, help="export this run instead of what was published")
    p.add_argument("-o", "--output", type=Path, default=None)
    p.set_defaults(handler=_command(export_round))
