"""The real embedded stack for tests: Tansu, `baocao worker`, `baocao warehouse`."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from baocao.embedded_stack import PARTITIONS, EmbeddedStack

__all__ = ["PARTITIONS", "Stack"]


class Stack(EmbeddedStack):
    """The worker and the warehouse service on their broker, waited on until a check holds."""

    def __init__(self, root: Path) -> None:
        super().__init__(
            root,
            {
                "BAOCAO_SINK_FLUSH_SECONDS": "0.5",
                # a stalled worker restarts itself sooner than in production (30 s)
                "BAOCAO_WORKER_STALL_SECONDS": "15",
            },
        )

    def start(self) -> None:
        super().start()
        self.start_process("worker")
        self.start_process("warehouse")

    def wait_for_alerts(
        self, check: Callable[[list[dict[str, Any]]], bool], timeout: float = 120.0
    ) -> list[dict[str, Any]]:
        """Alerts in the warehouse (the service's /api/alert-history) once ``check`` holds."""
        deadline = time.monotonic() + timeout
        rows: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            rows = self.get("/api/alert-history") or []
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
