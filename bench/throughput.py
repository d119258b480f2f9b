"""Sustained throughput, submitted -> rows in the warehouse, next to its yardsticks.

Each run pre-loads the same N simulated reports on ``reports.submitted`` and measures,
one after the other on that broker: a raw aiokafka consumer (no processing), a bare
Faust pass-through agent, a bare Faust agent that only receives, then the real
`baocao worker` with the `baocao warehouse` service until every report has its row.
Two workers in one group run on a second, fresh broker and warehouse (the first one's
ledger already knows every report).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from aiokafka import AIOKafkaConsumer  # type: ignore[import-untyped]
from kafka import KafkaConsumer

from baocao.broker import create_topics
from bench import passthrough_app
from bench.common import Row, Scale, collect, drain_rate, progress, reports
from bench.stack import PARTITIONS, BenchStack
from contract import topics
from contract.events import ReportSubmitted
from producers.kafka import ReportProducer

SIZES: dict[Scale, int] = {"small": 5_000, "full": 50_000}
#: Slowest rate tolerated before a stage is declared stuck (reports/s).
FLOOR_RATE = 50.0
#: After 95% of the decisions, how long without progress before the rest count as missing.
GIVE_UP_SECONDS = 60.0


def preload(stack: BenchStack, data: list[ReportSubmitted]) -> None:
    """Publish every report before anything consumes them."""
    with ReportProducer(stack.settings) as producer:
        producer.send(data)


def raw_consume(bootstrap: str, n: int) -> float:
    """Messages per second one aiokafka consumer reads (no group, no processing)."""

    async def consume() -> list[tuple[float, int]]:
        consumer = AIOKafkaConsumer(
            topics.SUBMITTED,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        samples, seen = [(time.perf_counter(), 0)], 0
        try:
            while seen < n:
                # Polls of 500, as the worker's: the rate spans many polls even for small n.
                batch = await consumer.getmany(timeout_ms=1000, max_records=500)
                seen += sum(len(records) for records in batch.values())
                samples.append((time.perf_counter(), seen))
        finally:
            await consumer.stop()
        return samples

    return drain_rate(asyncio.run(asyncio.wait_for(consume(), 60 + n / 1000)), n)


def passthrough(stack: BenchStack, n: int) -> float:
    """Events per second through the bare Faust agent, counted on its output topic."""
    create_topics(stack.bootstrap, [topics.TopicSpec(passthrough_app.TARGET, PARTITIONS)])
    consumer = KafkaConsumer(
        passthrough_app.TARGET, bootstrap_servers=stack.bootstrap, auto_offset_reset="earliest"
    )
    forwarded = [0]

    def count() -> int:  # the poll's own wait paces the samples
        forwarded[0] += sum(len(v) for v in consumer.poll(250, max_records=10_000).values())
        return forwarded[0]

    stack.spawn("passthrough", "bench.passthrough_app")
    try:
        return drain_app(stack, "passthrough", n, count)
    finally:
        consumer.close()


def receive_only(stack: BenchStack, n: int) -> float:
    """Events per second a bare Faust agent receives when it sends nothing."""
    counts = stack.root / "received"

    def count() -> int:
        time.sleep(0.25)
        return int(counts.read_text()) if counts.exists() else 0

    stack.spawn("receive", "bench.receive_app", env={"BENCH_RECEIVED_FILE": str(counts)})
    return drain_app(stack, "receive", n, count)


def drain_app(stack: BenchStack, name: str, n: int, count: Callable[[], int]) -> float:
    """The drain rate of the yardstick app ``name`` as ``count`` sees it; then stop it."""
    samples, seen = [], 0
    deadline = time.monotonic() + 120 + n / FLOOR_RATE
    try:
        while seen < n:
            seen = count()
            samples.append((time.perf_counter(), seen))
            stack.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} handled {seen} of {n} events")
    finally:
        stack.stop_process(name)
    return drain_rate(samples, n)


def pipeline(stack: BenchStack, n: int, workers: int) -> tuple[float, int, int]:
    """Reports per second from reports.submitted to their rows in the warehouse.

    Also return how many decisions never arrived and how many arrived twice (counted
    once the stack has stopped): once 95% are in (enough for the rate),
    ``GIVE_UP_SECONDS`` without progress ends the wait.
    """
    stack.start_warehouse()
    names = [f"worker-{i}" for i in range(workers)]
    for name in names:
        stack.start_worker(name)
    samples, seen = [], 0
    deadline = time.monotonic() + 180 + n / FLOOR_RATE
    moved = time.monotonic()
    while seen < n:
        time.sleep(0.25)
        stack.check_alive()
        now, before, seen = time.monotonic(), seen, stack.decided() or 0
        samples.append((time.perf_counter(), seen))
        moved = now if seen > before else moved
        if seen >= 0.95 * n and now - moved > GIVE_UP_SECONDS:
            progress(f"  {n - seen} row(s) missing after {GIVE_UP_SECONDS:.0f} s")
            break
        if now > deadline:
            raise TimeoutError(f"the warehouse holds {seen} of {n} decisions")
    for name in [*names, "warehouse"]:  # the warehouse last: it flushes what they sent
        stack.stop_process(name)
    distinct, raw = count_decisions(stack)
    return drain_rate(samples, n), n - distinct, raw - distinct


def count_decisions(stack: BenchStack) -> tuple[int, int]:
    """Distinct decisions and raw decision rows in the stopped stack's warehouse."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.decisions"], env=stack.env, capture_output=True, timeout=120
    )
    if out.returncode != 0:
        raise RuntimeError(f"counting decisions failed:\n{out.stderr.decode()[-2000:]}")
    counts = json.loads(out.stdout.decode().strip().splitlines()[-1])
    return int(counts["distinct"]), int(counts["raw"])


def once(n: int, root: Path) -> dict[str, float]:
    """One run: every figure of this benchmark, yardsticks included."""
    data = reports(n)
    with BenchStack(root / "one") as stack:
        preload(stack, data)
        raw = raw_consume(stack.bootstrap, n)
        progress(f"  raw aiokafka consume: {raw:,.0f} msg/s")
        faust = passthrough(stack, n)
        progress(f"  bare Faust pass-through: {faust:,.0f} events/s")
        receive = receive_only(stack, n)
        progress(f"  bare Faust agent, receive only: {receive:,.0f} events/s")
        one, missing, copies = pipeline(stack, n, workers=1)
        restarts = stack.worker_restarts()
        progress(f"  one worker + sink: {one:,.0f} reports/s")
    with BenchStack(root / "two") as stack:
        preload(stack, data)
        two, missing_two, copies_two = pipeline(stack, n, workers=2)
        restarts += stack.worker_restarts()
        missing += missing_two
        copies += copies_two
        progress(f"  two workers + sink: {two:,.0f} reports/s")
    return {
        "raw": raw,
        "faust": faust,
        "receive": receive,
        "receive_share": faust / receive,
        "one": one,
        "two": two,
        "vs_faust": one / faust,
        "scaling": two / one,
        "restarts": restarts,
        "missing": missing,
        "copies": copies,
    }


def run(scale: Scale, runs: int) -> list[Row]:
    n = SIZES[scale]

    def one_run(i: int) -> dict[str, float]:
        progress(f"throughput run {i + 1}/{runs}: {n:,} reports")
        with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
            return once(n, Path(tmp))

    r = collect(runs, one_run)
    where = f"{n:,} pre-loaded reports, {PARTITIONS} partitions"
    return [
        (f"yardstick: raw aiokafka consume, no processing ({where})", r["raw"].show() + " msg/s"),
        (f"yardstick: bare Faust pass-through agent ({where})", r["faust"].show() + " events/s"),
        (
            f"yardstick: bare Faust agent that only receives ({where})",
            r["receive"].show() + " events/s",
        ),
        (
            "share of the pass-through's per-event time spent receiving (pass-through rate / "
            "receive-only rate, per run): the part a batch of reports per event would share",
            r["receive_share"].show(".2f"),
        ),
        (
            f"end to end, one worker + sink: submitted -> rows in chDB ({where})",
            r["one"].show() + " reports/s",
        ),
        (
            "end to end / bare Faust pass-through, per run (target >= 1.0)",
            r["vs_faust"].show(".2f"),
        ),
        (f"end to end, two workers in one group + sink ({where})", r["two"].show() + " reports/s"),
        ("two workers / one worker, per run (target >= 1.6)", r["scaling"].show(".2f")),
        ("worker restarts by its stall watchdog during these runs", r["restarts"].show()),
        (
            f"decisions missing from the warehouse, distinct reports counted after the stack "
            f"stopped (of {n:,} per pipeline run, one and two workers added up)",
            r["missing"].show(),
        ),
        (
            "decisions written twice (at-least-once copies after a rebalance or restart; "
            "the warehouse's views count each once)",
            r["copies"].show(),
        ),
    ]
