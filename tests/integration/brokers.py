"""A second Kafka-protocol implementation for the messaging contract tests.

`noida-db` (from PyPI) ships one binary that speaks, among others, the Kafka protocol. Unlike
the local Tansu broker it has the idempotent producer and answers a topic it cannot create
with a real error (e.g. a replication factor above its one broker), but it serves only one
member per consumer group, so the rebalance tests stay on Tansu.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from importlib.resources import files
from pathlib import Path

from shared.devbroker import BrokerError, free_port, wait_until_listening


class NoidaBroker:
    def __init__(self, data_dir: Path, *, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = free_port(host)
        self._data_dir = data_dir
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> str:
        binary = files("noida_db").joinpath("noida-db")
        os.chmod(str(binary), 0o755)
        self._process = subprocess.Popen(
            [
                str(binary),
                "start",
                "--only",
                "kafka",
                "--host",
                self.host,
                "--kafka-port",
                str(self.port),
                "--data-dir",
                str(self._data_dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_until_listening(self._process, self.host, self.port, timeout, "noida-db")
        except BrokerError:
            self.stop()
            raise
        return self.bootstrap_servers

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
