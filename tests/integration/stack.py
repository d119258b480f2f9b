"""Run the real embedded stack for tests: Tansu, `baocao worker`, `baocao warehouse`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from baocao import procs
from baocao.broker import EmbeddedBroker, create_topics, free_port
from contract import topics
from contract.settings import Settings

PARTITIONS = 4


class Stack:
    """Processes of one embedded stack, each started and stopped the way `baocao up` does."""

    def __init__(self, root: Path) -> None:
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
            "BAOCAO_SINK_FLUSH_SECONDS": "0.5",
            # a stalled worker restarts itself sooner than in production (30 s)
            "BAOCAO_WORKER_STALL_SECONDS": "15",
        }

    @property
    def settings(self) -> Settings:
        return Settings(
            broker=self.broker.bootstrap,
            chdb_path=self.root / "warehouse",
            http_port=self.http_port,
            partitions=PARTITIONS,
        )

    def start(self) -> None:
        self.broker.start()
        create_topics(self.broker.bootstrap, topics.specs(PARTITIONS))
        self.start_process("worker")
        self.start_process("warehouse")

    def start_process(self, name: str, command: str | None = None) -> None:
        """Run `baocao <command>` (default: the name) with its output in <name>.log."""
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115
        argv = [sys.executable, "-m", "baocao", command or name]
        self.procs[name] = procs.spawn(argv, log, self.env)

    def stop_process(self, name: str, sig: int = signal.SIGTERM) -> int:
        proc = self.procs.pop(name)
        if sig != signal.SIGTERM and proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait(60)
        return procs.stop(proc, timeout=60)

    def stop(self) -> None:
        for name in list(self.procs):
            self.stop_process(name)
        self.broker.stop()

    def status(self) -> dict[str, Any] | None:
        url = f"http://127.0.0.1:{self.http_port}/api/status"
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                data: dict[str, Any] = json.loads(resp.read())
                return data
        except OSError:
            return None

    def wait_for_alerts(
        self, check: Callable[[list[dict[str, Any]]], bool], timeout: float = 120.0
    ) -> list[dict[str, Any]]:
        """Alerts in the warehouse (the service's /api/alert-history) once ``check`` holds."""
        url = f"http://127.0.0.1:{self.http_port}/api/alert-history"
        deadline = time.monotonic() + timeout
        rows: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=10) as resp:
                    rows = json.loads(resp.read())
            except OSError:
                rows = []
            if check(rows):
                return rows
            time.sleep(0.5)
        raise AssertionError(f"alerts never matched; last: {rows}\n{self.log_tail('worker')}")

    def wait_for(
        self,
        what: str,
        check: Callable[[dict[str, Any]], bool],
        timeout: float = float(os.environ.get("BAOCAO_TEST_WAIT", "240")),
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                assert proc.poll() is None, f"{name} died:\n{self.log_tail(name)}"
            last = self.status()
            if last is not None and check(last):
                return last
            time.sleep(0.5)
        from baocao.status import gather  # which stage stalled: lag per consumer group

        lags = [(t.group, t.topic, t.end, t.committed) for t in gather(self.settings).lags]
        raise AssertionError(
            f"timed out waiting for {what}; last status {last}\nlags {lags}\n"
            f"{self.log_tail('worker')}\n{self.log_tail('warehouse')}"
        )

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.root / f"{name}.log"
        if not path.exists():
            return f"(no {name} log)"
        return f"--- {name}.log ---\n" + "\n".join(
            path.read_text(errors="replace").splitlines()[-lines:]
        )
