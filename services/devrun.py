"""`signpost run` (`make run`): the whole system on one machine for development.

Starts a local Kafka-protocol broker unless KAFKA_BOOTSTRAP_SERVERS is set, migrates and seeds
each service's database (SQLite files under the data directory unless a service's
DATABASE_URL is set), starts the fake SMS provider and SMTP sink notifications sends to
(unless TWILIO_API_BASE_URL or SMTP_HOST is set), starts the three services as child
processes, waits until each answers
/healthz, prints where they are, and on Ctrl-C (or SIGTERM) stops them in order.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType

from services.demo import describe_logins, seed_all
from services.registry import entries
from shared.devbroker import LocalBroker, port_open

STARTUP_DEADLINE_SECONDS = 60


def run_all() -> int:
    env = dict(os.environ)
    env.setdefault("SIGNPOST_ENV", "development")
    data_dir = Path(env.setdefault("SIGNPOST_DATA_DIR", "var"))
    (data_dir / "log").mkdir(parents=True, exist_ok=True)
    broker = None
    if not env.get("KAFKA_BOOTSTRAP_SERVERS"):
        broker = LocalBroker(
            port=None if port_open("127.0.0.1", 9092) else 9092,
            log_file=data_dir / "log" / "broker.log",
        )
        env["KAFKA_BOOTSTRAP_SERVERS"] = broker.start()
        env.setdefault("KAFKA_ENABLE_IDEMPOTENCE", "false")  # the local broker lacks it
        print(f"{'broker':<15}{env['KAFKA_BOOTSTRAP_SERVERS']} (local, in memory)")
    children: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        os.environ.update(env)
        if asyncio.run(seed_all()) != 0:
            return 2
        if not env.get("TWILIO_API_BASE_URL") and not env.get("SMTP_HOST"):
            # The fake SMS provider and the SMTP sink notifications sends to by default.
            log = open(data_dir / "log" / "fakes.log", "ab")  # noqa: SIM115
            children["fakes"] = subprocess.Popen(
                [sys.executable, "-m", "services.notifications.devtools"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        for name in entries():
            log = open(data_dir / "log" / f"{name}.log", "ab")  # noqa: SIM115
            children[name] = subprocess.Popen(
                [sys.executable, "-m", f"services.{name}"],
                env={**env, "MIGRATE_ON_START": "false"},  # seeding has just migrated them
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        urls = {name: _base_url(name, env) for name in children if name in entries()}
        if not _wait_healthy(urls, children, lambda: stopping):
            return 1
        for name, url in urls.items():
            print(f"{name:<15}{url}   (logs: {data_dir / 'log' / (name + '.log')})")
        if "fakes" in children:
            print(f"{'messages':<15}{urls['notifications']}/dev/outbox (fake SMS and SMTP)")
        print("\nDemo logins:\n" + describe_logins())
        print("\nPress Ctrl-C to stop.", flush=True)
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    print(
                        f"{name} exited with status {child.returncode}; stopping", file=sys.stderr
                    )
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        _stop_children(children)
        if broker is not None:
            broker.stop()
        print("stopped", file=sys.stderr)


def _base_url(name: str, env: dict[str, str]) -> str:
    settings = entries()[name].settings_type.from_env(env)
    return f"http://{settings.host}:{settings.port}"


def _wait_healthy(
    urls: dict[str, str], children: dict[str, subprocess.Popen[bytes]], stopping: object
) -> bool:
    deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
    waiting = dict(urls)
    while waiting and time.monotonic() < deadline:
        for name, url in list(waiting.items()):
            if children[name].poll() is not None:
                print(f"{name} failed to start; see its log", file=sys.stderr)
                return False
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        del waiting[name]
            except OSError:
                pass
        if callable(stopping) and stopping():
            return False
        time.sleep(0.2)
    if waiting:
        print(
            f"not healthy after {STARTUP_DEADLINE_SECONDS}s: {', '.join(waiting)}", file=sys.stderr
        )
        return False
    return True


def _stop_children(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children.values():
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
