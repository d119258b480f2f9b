"""The embedded stack driven from Python: Tansu plus real `baocao` child processes.

Integration tests and benchmarks both need a broker, a worker and the warehouse
service started the way `baocao up` starts them (``procs.spawn``, settings in
``BAOCAO_*`` variables), each with its log in one directory, and always stopped.
Each adds what it watches for on top of this class.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from baocao import procs
from baocao.broker import EmbeddedBroker, create_topics, free_port
from contract import topics
from contract.settings import Settings

PARTITIONS = 4


class EmbeddedStack:
    """A broker and the processes started against it, with their logs under ``root``."""

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
            **(env or {}),
        }

    @property
    def bootstrap(self) -> str:
        return self.broker.bootstrap

    @property
    def settings(self) -> Settings:
        return Settings(
            broker=self.bootstrap,
            chdb_path=self.root / "warehouse",
            http_port=self.http_port,
            partitions=PARTITIONS,
        )

    def start(self) -> None:
        """Start the broker and create every topic of the contract."""
        self.broker.start()
        create_topics(self.bootstrap, topics.specs(PARTITIONS))

    def spawn(
        self, name: str, module: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start ``python -m module args`` as ``name``, its output in ``<name>.log``."""
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115  (the child owns it)
        proc = procs.spawn([sys.executable, "-m", module, *args], log, {**self.env, **(env or {})})
        self.procs[name] = proc
        return proc

    def start_process(
        self, name: str, command: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Run `baocao <command>` (default: the name) with its output in ``<name>.log``."""
        return self.spawn(name, "baocao", command or name, env=env)

    def start_worker(self, name: str = "worker") -> subprocess.Popen[bytes]:
        """A stream worker with a state directory of its own (used by the rocksdb store)."""
        return self.start_process(
            name, "worker", {"BAOCAO_WORKER_STATE_DIR": str(self.root / f"{name}-state")}
        )

    def stop_process(self, name: str, sig: int = signal.SIGTERM) -> int:
        """Stop one child (SIGTERM, then SIGKILL); another ``sig`` is sent first, as a crash."""
        proc = self.procs.pop(name)
        if sig != signal.SIGTERM and proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait(60)
        return procs.stop(proc, timeout=60)

    def stop(self) -> None:
        # The warehouse service last among children: it flushes what the workers sent.
        for name in sorted(self.procs, key=lambda n: n == "warehouse"):
            self.stop_process(name)
        self.broker.stop()

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

    def status(self) -> dict[str, Any] | None:
        """The warehouse service's /api/status (row counts, lags), or None while it is not up."""
        data: dict[str, Any] | None = self.get("/api/status", timeout=5)
        return data

    def worker_restarts(self) -> int:
        """How often a worker's stall watchdog restarted it (its log says so each time)."""
        logs = self.root.glob("worker*.log")
        return sum(p.read_text(errors="replace").count("worker stalled") for p in logs)

    def stalls(self, before: int = 120, after: int = 80) -> str:
        """Each watchdog restart with the log lines around it (the lines after it say where
        the worker waited), for a failing test to show."""
        out = []
        for path in sorted(self.root.glob("worker*.log")):
            text = path.read_text(errors="replace").splitlines()
            for i, line in enumerate(text):
                if "worker stalled" in line:
                    out.append(f"--- {path.name}, line {i + 1} ---")
                    out += text[max(0, i - before) : i + after]
        return "\n".join(out) or "(no watchdog restart)"

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.root / f"{name}.log"
        if not path.exists():
            return f"(no {name} log)"
        text = path.read_text(errors="replace").splitlines()
        tail = text[-lines:]
        # A crash is often reported at the end ("Reraising original exception") but
        # logged where it happened: show the first error above the tail too.
        first = next(
            (i for i, line in enumerate(text) if "[ERROR]" in line or "[CRITICAL]" in line),
            len(text),
        )
        head = text[first : min(first + lines, len(text) - lines)]
        shown = [f"--- {name}.log, line {first + 1} ---", *head] if head else []
        return "\n".join([*shown, f"--- {name}.log (last {len(tail)} lines) ---", *tail])

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if et is not None:  # the directory may go next: show what the children said
            for name in list(self.procs):
                print(self.log_tail(name), file=sys.stderr)
        self.stop()
