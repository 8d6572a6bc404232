"""`signpost dlq`: what a service's consumers set aside, and feeding it back once fixed.

    signpost dlq list SERVICE [--consumer NAME]
    signpost dlq replay SERVICE [--type T] [--since ISO] [--consumer NAME]

A replay runs each dead letter's original value through the same consumer the service
wires (its handlers, its inbox), so an event already applied is a duplicate and changes
nothing; one that fails again is dead-lettered again.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from services.registry import entries
from shared.http.app import DATABASE, MESSAGING
from shared.messaging.consumer import EventConsumer, Outcome
from shared.messaging.dead_letters import DeadLetter, read_dead_letters

SERVICES = ("booking", "placements", "notifications")


def register(commands: Any) -> None:
    dlq = commands.add_parser("dlq", help="list or replay a service's dead-lettered events")
    actions = dlq.add_subparsers(dest="dlq_command", required=True)
    listing = actions.add_parser("list", help="show each dead letter: when, type, key, reason")
    listing.add_argument("service", choices=SERVICES)
    listing.add_argument("--consumer", help="only this consumer's dead letters")
    listing.set_defaults(handler=lambda args: asyncio.run(list_dead_letters(args)))
    replay = actions.add_parser("replay", help="feed dead letters back through their consumer")
    replay.add_argument("service", choices=SERVICES)
    replay.add_argument("--type", dest="event_type", help="only events of this type")
    replay.add_argument(
        "--since", type=_instant, help="only those dead-lettered at or after (ISO 8601; UTC)"
    )
    replay.add_argument("--consumer", help="only this consumer's dead letters")
    replay.set_defaults(handler=lambda args: asyncio.run(replay_dead_letters(args)))


def _instant(raw: str) -> datetime:
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{raw!r} is not an ISO 8601 date or time, e.g. 2026-12-01T09:00:00Z"
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


@asynccontextmanager
async def _consumers(service: str, only: str | None) -> AsyncIterator[list[EventConsumer[Any]]]:
    """The service's consumers as its composition root wires them, without starting it."""
    entry = entries()[service]
    app = entry.create_app(entry.settings_type.from_env())
    consumers = list(app[MESSAGING].consumers)
    try:
        if only is not None:
            consumers = [c for c in consumers if c.name == only]
            if not consumers:
                names = ", ".join(c.name for c in app[MESSAGING].consumers) or "none"
                raise _BadArgument(f"{service} has no consumer {only!r} (it has: {names})")
        yield consumers
    finally:
        for consumer in app[MESSAGING].consumers:
            await consumer.close()
        await app[DATABASE].dispose()


class _BadArgument(Exception):
    pass


async def list_dead_letters(args: argparse.Namespace) -> int:
    try:
        async with _consumers(args.service, args.consumer) as consumers:
            print("when\tconsumer\ttype\tkey\treason\tdetail")
            for consumer in consumers:
                for letter in await read_dead_letters(consumer.bootstrap_servers, consumer.name):
                    print(
                        f"{letter.when.isoformat()}\t{letter.consumer}\t{letter.event_type}\t"
                        f"{letter.key}\t{letter.reason}\t{letter.detail}"
                    )
    except _BadArgument as exc:
        print(f"signpost dlq list: {exc}", file=sys.stderr)
        return 2
    return 0


def _wanted(letter: DeadLetter, args: argparse.Namespace) -> bool:
    if args.event_type is not None and letter.event_type != args.event_type:
        return False
    return args.since is None or letter.when >= args.since


async def replay_dead_letters(args: argparse.Namespace) -> int:
    outcomes: Counter[Outcome] = Counter()
    try:
        async with _consumers(args.service, args.consumer) as consumers:
            for consumer in consumers:
                letters = await read_dead_letters(consumer.bootstrap_servers, consumer.name)
                for letter in letters:
                    if _wanted(letter, args):
                        outcomes[await consumer.process(letter.as_record())] += 1
    except _BadArgument as exc:
        print(f"signpost dlq replay: {exc}", file=sys.stderr)
        return 2
    print(
        f"replayed {sum(outcomes.values())}: {outcomes[Outcome.PROCESSED]} processed, "
        f"{outcomes[Outcome.DUPLICATE]} duplicate, "
        f"{outcomes[Outcome.DEAD_LETTERED]} dead-lettered again, "
        f"{outcomes[Outcome.IGNORED]} ignored, "
        f"{outcomes[Outcome.NEWER_VERSION]} of a newer version than this build knows"
    )
    return 0
