"""An embedded stack for one benchmark run: Tansu plus the real `baocao` processes.

Processes are started the way `baocao up` starts them (``procs.spawn``, settings in
``BAOCAO_*`` variables), each in its own temporary directory, and always stopped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from kafka import KafkaProducer

from baocao import procs
from baocao.broker import EmbeddedBroker, create_topics, free_port
from contract import topics
from contract.settings import Settings

PARTITIONS = 4
#: Where `python -m bench.…` children find the bench package (it is not installed).
REPO_ROOT = Path(__file__).resolve().parents[1]


class BenchStack:
    """A broker and the processes a benchmark starts against it."""

    def __init__(self, root: Path, env: dict[str, str] | None = None) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.broker = EmbeddedBroker(log_path=root / "broker.log")
        self.http_port = free_port()
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {
            **os.environ,
            "BAOCAO_BROKER": self.broker.bootstrap,
            "BAOCAO_CHDB_PATH": str(root / "warehouse"),
            "BAOCAO_HTTP_PORT": str(self.http_port),
            "BAOCAO_PARTITIONS": str(PARTITIONS),
            # Faust keeps its data directory in the working directory unless told.
            "FAUST_DATADIR": str(root / "faust-data"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.getenv("PYTHONPATH")])),
            **(env or {}),
        }

    @property
    def bootstrap(self) -> str:
        return self.broker.bootstrap

    @property
    def settings(self) -> Settings:
        return Settings(broker=self.bootstrap, partitions=PARTITIONS)

    def start(self) -> None:
        self.broker.start()
        create_topics(self.bootstrap, topics.specs(PARTITIONS))

    def publish(self, topic: str, messages: Sequence[tuple[bytes, bytes]]) -> None:
        """Publish (key, value) pairs as they are, batched, acks=all, all confirmed."""
        producer = KafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", linger_ms=5, batch_size=256 * 1024
        )
        try:
            sends = [producer.send(topic, key=key, value=value) for key, value in messages]
            producer.flush(timeout=120)
            for sent in sends:
                sent.get(timeout=30)
        finally:
            producer.close(timeout=30)

    def spawn(self, name: str, module: str, *args: str) -> subprocess.Popen[bytes]:
        """Start ``python -m module args`` as ``name``, its output in ``name.log``."""
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115  (the child owns it)
        proc = procs.spawn([sys.executable, "-m", module, *args], log, self.env)
        self.procs[name] = proc
        return proc

    def start_worker(self, name: str = "worker") -> subprocess.Popen[bytes]:
        return self.spawn(name, "baocao", "worker")

    def start_warehouse(self) -> subprocess.Popen[bytes]:
        return self.spawn("warehouse", "baocao", "warehouse")

    def stop_process(self, name: str) -> None:
        procs.stop(self.procs.pop(name), timeout=60)

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")

    def get(self, path: str, timeout: float = 10.0) -> Any:
        """The warehouse service's JSON answer at ``path``, or None while it is not up."""
        url = f"http://127.0.0.1:{self.http_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:
                return json.loads(resp.read())
        except OSError:
            return None

    def decided(self) -> int | None:
        """Reports the warehouse holds a decision for (accepted rows + rejections)."""
        status = self.get("/api/status")
        if status is None:
            return None
        rows = status["rows"]
        return int(rows["reports"]) + int(rows["rejections"])

    def worker_restarts(self) -> int:
        """How often a worker's stall watchdog restarted it (its log says so each time)."""
        logs = self.root.glob("worker*.log")
        return sum(p.read_text(errors="replace").count("worker stalled") for p in logs)

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.root / f"{name}.log"
        if not path.exists():
            return f"(no {name} log)"
        text = path.read_text(errors="replace").splitlines()[-lines:]
        return f"--- {name}.log ---\n" + "\n".join(text)

    def stop(self) -> None:
        # The warehouse service last among children: it flushes what the workers sent.
        for name in sorted(self.procs, key=lambda n: n == "warehouse"):
            self.stop_process(name)
        self.broker.stop()

    def __enter__(self) -> BenchStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if et is not None:  # the temporary directory goes next: show what the children said
            for name in list(self.procs):
                print(self.log_tail(name), file=sys.stderr)
        self.stop()
