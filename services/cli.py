"""`signpost`: the operators' command line.

    signpost run                      the whole system locally (what `make run` calls)
    signpost migrate [SERVICE ...]    apply database migrations (production runs this)
    signpost seed                     load the demo county (development only)
    signpost keys DIR                 create the token-signing key pair for production
    signpost dlq list|replay SERVICE  a service's dead-lettered events, and replaying them
    signpost outbox failed SERVICE    list outbox rows parked after the broker refused them
    signpost outbox retry SERVICE     put parked rows back for the relay (--id N: one row)

Each service adds its own commands (e.g. `signpost directory import`, `signpost placements
run`) from `services/<service>/entrypoints/cli.py`, which defines `register(subparsers)`;
a registered command sets `handler`, a function taking the parsed arguments and returning
an exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from shared.auth.keys import generate_keypair
from shared.logging import configure_logging
from shared.migrations import database_for_task

SERVICE_CLIS = (
    "services.booking.entrypoints.cli",
    "services.placements.entrypoints.cli",
    "services.dlq",
    "services.outbox_cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="signpost", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the broker (if needed) and all three services")
    migrate = commands.add_parser("migrate", help="apply migrations to each service's database")
    migrate.add_argument("services", nargs="*", choices=["booking", "placements", "notifications"])
    commands.add_parser("seed", help="load the demo county into empty databases")
    keys = commands.add_parser("keys", help="create the token-signing key pair in a directory")
    keys.add_argument("directory", type=Path)
    for module_name in SERVICE_CLIS:
        importlib.import_module(module_name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "run":
        from services.devrun import run_all

        return run_all()
    if args.command == "migrate":
        return asyncio.run(migrate_services(args.services or None))
    if args.command == "seed":
        from services.demo import seed_all

        return asyncio.run(seed_all())
    if args.command == "keys":
        return create_keys(args.directory)
    status: int = args.handler(args)
    return status


def create_keys(directory: Path) -> int:
    """Write a new Ed25519 key pair for production (refuses to overwrite an existing one)."""
    private_path = directory / "token-signing.pem"
    if private_path.exists():
        print(f"{private_path} exists; remove it first to rotate the keys", file=sys.stderr)
        return 1
    pair = generate_keypair()
    directory.mkdir(parents=True, exist_ok=True)
    private_path.write_text(pair.private_pem)
    private_path.chmod(0o600)
    (directory / "token-signing.pub.pem").write_text(pair.public_pem)
    print(f"wrote {private_path} and token-signing.pub.pem", file=sys.stderr)
    return 0


async def migrate_services(names: Sequence[str] | None = None) -> int:
    from services.registry import entries

    for entry in entries().values():
        if names and entry.name not in names:
            continue
        settings = entry.settings_type.from_env()
        async with database_for_task(settings.database_url, entry.migrations):
            pass
        print(f"{entry.name}: migrated", file=sys.stderr)
    return 0


def run() -> None:
    """The `signpost` console script: logs go to stderr so command output can be piped."""
    configure_logging("cli", os.environ.get("LOG_LEVEL", "WARNING"), stream=sys.stderr)
    sys.exit(main())


if __name__ == "__main__":
    run()
