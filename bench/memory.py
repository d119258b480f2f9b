"""Memory of the worker and the sink while a long stream of reports goes through.

The real stack runs with a national registry (~10,000 communes report daily). A feeder
publishes simulated days of reports, staying at most ``BACKLOG`` reports ahead of the
warehouse, while this process reads each child's VmRSS from /proc every few seconds.
Progress is the share of reports decided in the warehouse (accepted rows + rejections).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
import tracemalloc
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bench.common import Row, Runs, Scale, progress, report_days, reports, rss_mib
from bench.stack import BenchStack
from bench.warehouse_fill import all_provinces, registry
from contract.registry import Registry
from producers.kafka import ReportProducer
from streams.ledger import decide

#: Reports decided in-process to size one ledger entry.
LEDGER_SAMPLE = 5_000

SIZES: dict[Scale, int] = {"small": 20_000, "full": 1_000_000}
SAMPLE_SECONDS: dict[Scale, float] = {"small": 2.0, "full": 5.0}
BACKLOG = 20_000
CHUNK = 500
MARKS = (0.1, 0.5, 1.0)
#: Memory must stay within this share of its value at the first mark (after warm-up).
FLAT = 0.10
LAST_DAY = date(2021, 7, 27)
#: Give up when the warehouse has not moved for this long (the worker's own stall
#: watchdog restarts it after 30 s, so this is well past a recovery).
STUCK_SECONDS = 300.0


@dataclass
class Feeder:
    """Publish ``n`` reports, never more than ``BACKLOG`` ahead of ``decided``."""

    stack: BenchStack
    registry: Registry
    n: int
    decided: int = 0
    sent: int = 0
    error: BaseException | None = None

    def run(self, stop: threading.Event) -> None:
        try:
            with ReportProducer(self.stack.settings) as producer:
                for day in report_days(self.registry, LAST_DAY):
                    for k in range(0, len(day), CHUNK):
                        chunk = day[k : k + CHUNK][: self.n - self.sent]
                        while self.sent - self.decided > BACKLOG and not stop.is_set():
                            time.sleep(0.2)
                        if stop.is_set() or not chunk:
                            return
                        producer.send(chunk)
                        self.sent += len(chunk)
        except BaseException as exc:  # reported by the sampling loop
            self.error = exc


def flatness(series: list[tuple[float, float]]) -> tuple[bool, float]:
    """Whether memory after warm-up stays within ±FLAT of its value at the first mark."""
    after = [mib for share, mib in series if share >= MARKS[0]]
    base = after[0]
    spread = max(abs(mib - base) for mib in after) / base
    return spread <= FLAT, spread


def ledger_entry_bytes() -> float:
    """Python heap per ledger entry, as the worker's in-memory table holds them.

    The worker keeps one entry per (unit, dataset, date) it has accepted, so its
    memory grows by this much per new unit-day: that is its state, not a leak.
    """
    sample = reports(LEDGER_SAMPLE)
    tracemalloc.start()
    try:
        table: dict[str, object] = {}
        for offset, report in enumerate(sample):
            decision = decide(None, report, report.submitted_at, 0, offset)
            assert decision.entry is not None
            table[report.ledger_key] = decision.entry.to_json()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return held / len(table)


def growth_per_report(series: list[tuple[float, float]], n: int) -> float:
    """Bytes of RSS added per decided report from the first mark to the end."""
    first, base = next(sample for sample in series if sample[0] >= MARKS[0])
    last, end = series[-1]
    return (end - base) * 2**20 / max(1.0, (last - first) * n)


def at_marks(series: list[tuple[float, float]]) -> list[float]:
    """RSS at the first sample at or past each mark of the stream."""
    return [next(mib for share, mib in series if share >= mark) for mark in MARKS]


@dataclass
class MemoryRun:
    """RSS series (share of the stream done, MiB) per process, and worker restarts."""

    series: dict[str, list[tuple[float, float]]]
    restarts: int


def once(scale: Scale, root: Path, n: int) -> MemoryRun:
    national = registry(all_provinces())
    registry_path = root / "registry.json"
    national.dump(registry_path)
    env = {"BAOCAO_REGISTRY_PATH": str(registry_path)}
    series: dict[str, list[tuple[float, float]]] = {"worker": [], "sink": [], "broker": []}
    with BenchStack(root, env) as stack:
        pids = {
            "worker": stack.start_worker().pid,
            "sink": stack.start_warehouse().pid,
            "broker": stack.broker.pid,
        }
        feeder = Feeder(stack, national, n)
        stop = threading.Event()
        thread = threading.Thread(target=feeder.run, args=(stop,), daemon=True)
        thread.start()
        last_note, moved = 0.0, time.monotonic()
        try:
            while feeder.decided < n:
                time.sleep(SAMPLE_SECONDS[scale])
                stack.check_alive()
                if feeder.error is not None:
                    raise RuntimeError("the feeder failed") from feeder.error
                decided = stack.decided() or feeder.decided
                if decided > feeder.decided:
                    moved = time.monotonic()
                elif time.monotonic() - moved > STUCK_SECONDS:
                    raise TimeoutError(f"no progress for {STUCK_SECONDS:.0f} s at {decided:,}")
                feeder.decided = decided
                share = feeder.decided / n
                for name, pid in pids.items():
                    if pid is not None:
                        series[name].append((share, rss_mib(pid)))
                if share - last_note >= 0.1:
                    last_note = share
                    mibs = ", ".join(f"{k} {v[-1][1]:,.0f}" for k, v in series.items() if v)
                    progress(f"  {feeder.decided:,} of {n:,} decided; RSS MiB: {mibs}")
        finally:
            stop.set()
            thread.join(timeout=60)
        restarts = stack.worker_restarts()
    return MemoryRun(series, restarts)


def run(scale: Scale, runs: int, n: int | None = None) -> list[Row]:
    n = n or SIZES[scale]
    results: list[MemoryRun] = []
    for i in range(runs):
        progress(f"memory run {i + 1}/{runs}: {n:,} reports, national registry")
        with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
            results.append(once(scale, Path(tmp), n))
    rows: list[Row] = []
    growth = Runs(tuple(growth_per_report(r.series["worker"], n) for r in results))
    rows.append(
        (
            "worker RSS growth per decided report after 10% of the stream, next to one ledger "
            "entry (a new unit-day) in Python's heap, measured in-process",
            f"{growth.show(',.0f')} bytes per report; a ledger entry: "
            f"{ledger_entry_bytes():,.0f} bytes",
        )
    )
    restarts = ", ".join(str(r.restarts) for r in results)
    for name in ("worker", "sink", "broker"):
        series = [r.series[name] for r in results]
        marks = [Runs(tuple(at_marks(s)[k] for s in series)) for k in range(len(MARKS))]
        shown = " / ".join(m.show() for m in marks)
        what = f"memory, {name} RSS, {n:,} reports through worker + sink (national registry)"
        if name == "worker":
            what += f", tables in {os.environ.get('BAOCAO_WORKER_STORE', 'memory')}"
        if name == "broker":  # Tansu keeps every message in memory: it grows by design
            rows.append((what, f"{shown} MiB at 10% / 50% / 100%"))
            continue
        checks = [flatness(s) for s in series]
        flat = sum(ok for ok, _ in checks)
        spreads = ", ".join(f"{spread:.1%}" for _, spread in checks)
        rows.append(
            (
                what,
                f"{shown} MiB at 10% / 50% / 100%; flat after 10% in {flat} of {runs} run(s) "
                f"(largest deviation from the 10% value: {spreads}; target within ±{FLAT:.0%})"
                + (f"; worker restarts: {restarts}" if name == "worker" else ""),
            )
        )
    return rows
