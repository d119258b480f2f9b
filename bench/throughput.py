"""Sustained throughput, submitted -> rows in the warehouse, next to its yardsticks.

Each run pre-loads the same N simulated reports on ``reports.submitted`` and measures,
one after the other on that broker: a raw aiokafka consumer (no processing), a bare
Faust pass-through agent, a bare Faust agent that only receives, then the real
`baocao worker` with the `baocao warehouse` service until every report has its row.
Two workers in one group run on a second, fresh broker and warehouse (the first one's
ledger already knows every report). A third measures the ceiling: the same decisions,
made before the run, forwarded by a bare Faust agent to the real sink (``forward_app``):
what the machine allows with one Kafka message per report if the worker's own work
cost nothing.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from aiokafka import AIOKafkaConsumer  # type: ignore[import-untyped]
from kafka import KafkaConsumer

from baocao.broker import create_topics
from bench import forward_app, passthrough_app, stateful_app
from bench.common import (
    TZ,
    Row,
    Runs,
    Scale,
    collect,
    cpu_seconds,
    drain_rate,
    machine_ticks,
    progress,
    reports,
)
from bench.stack import PARTITIONS, BenchStack
from contract import topics
from contract.clock import SystemClock
from contract.datasets import Catalog
from contract.events import ReportSubmitted, SourceRef
from contract.registry import Registry
from contract.settings import Settings
from producers.kafka import ReportProducer
from streams.processor import Stored, SubmissionProcessor

SIZES: dict[Scale, int] = {"small": 5_000, "full": 50_000}
#: Slowest rate tolerated before a stage is declared stuck (reports/s).
FLOOR_RATE = 50.0
#: After 95% of the decisions, how long without progress before the rest count as missing.
GIVE_UP_SECONDS = 60.0


def preload(stack: BenchStack, data: list[ReportSubmitted]) -> None:
    """Publish every report before anything consumes them."""
    with ReportProducer(stack.settings) as producer:
        producer.send(data)


def decide_beforehand(data: Sequence[ReportSubmitted]) -> dict[str, list[tuple[bytes, bytes]]]:
    """Every report decided as the worker decides it, without a broker: source topic ->
    (key, value) of each decision, for ``forward_app`` to forward."""
    processor = SubmissionProcessor(
        Registry.load(), Catalog.load(), TZ, SystemClock(), Settings().max_payload_bytes
    )
    ledger: dict[str, Stored] = {}
    out: dict[str, list[tuple[bytes, bytes]]] = {source: [] for source in forward_app.ROUTES}
    for offset, report in enumerate(data):
        source = SourceRef(topic=topics.SUBMITTED, partition=0, offset=offset)
        decision = processor.process(
            report.unit_id.encode(), report.to_json(), source, ledger.get, ledger.__setitem__
        )
        if decision is None:  # each report must give exactly one row to be counted
            raise RuntimeError(f"report {report.report_id} was decided as a duplicate")
        out[f"bench.decided.{decision.topic}"].append((decision.key, decision.value))
    return out


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


def passthrough(stack: BenchStack, n: int, app: ModuleType = passthrough_app) -> float:
    """Events per second through a bare Faust agent (the module ``app``), counted on its
    output topic, ``app.TARGET``."""
    target: str = app.TARGET
    create_topics(stack.bootstrap, [topics.TopicSpec(target, PARTITIONS)])
    consumer = KafkaConsumer(
        target, bootstrap_servers=stack.bootstrap, auto_offset_reset="earliest"
    )
    forwarded = [0]

    def count() -> int:  # the poll's own wait paces the samples
        forwarded[0] += sum(len(v) for v in consumer.poll(250, max_records=10_000).values())
        return forwarded[0]

    name = app.__name__.rsplit(".", 1)[-1]
    stack.spawn(name, app.__name__)
    try:
        return drain_app(stack, name, n, count)
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


@dataclass(frozen=True)
class CpuLook:
    """CPU used so far by the machine and by each process of a pipeline, at one moment."""

    decided: int
    machine: tuple[int, int]  # busy, total ticks (all cores)
    processes: dict[str, float]  # role -> CPU seconds

    @classmethod
    def take(cls, decided: int, pids: dict[str, int]) -> CpuLook:
        return cls(decided, machine_ticks(), {name: cpu_seconds(p) for name, p in pids.items()})


def cpu_use(start: CpuLook, end: CpuLook) -> dict[str, float]:
    """Between two looks: the machine's busy share, and CPU ms per report of each role."""
    reports = max(1, end.decided - start.decided)
    busy = (end.machine[0] - start.machine[0]) / max(1, end.machine[1] - start.machine[1])
    roles: dict[str, float] = {}
    for name, seconds in end.processes.items():
        role = "worker" if name.startswith("worker") else name  # workers added up
        used = seconds - start.processes[name]
        roles[role] = roles.get(role, 0.0) + 1000 * used / reports
    return {"busy": busy, **{f"{role}_ms": ms for role, ms in roles.items()}}


def pipeline(
    stack: BenchStack,
    n: int,
    workers: int,
    forward: bool = False,
    settle: Callable[[dict[str, int], int], CpuLook] | None = None,
) -> tuple[float, int, int, dict[str, float]]:
    """Reports per second from reports.submitted to their rows in the warehouse.

    ``forward``: instead of real workers, one ``forward_app`` moves decisions made
    beforehand (see ``decide_beforehand``) to the sink: the ceiling yardstick.
    ``settle(pids, decided)``: called once the decisions are in, before the processes
    stop (e.g. to wait for work the decisions caused); the CPU figures from the 25% look
    to the look it returns come back too, prefixed ``settled_``.

    Also return how many decisions never arrived and how many arrived twice (counted
    once the stack has stopped): once 95% are in (enough for the rate),
    ``GIVE_UP_SECONDS`` without progress ends the wait. And where the CPU went over
    the same window as the rate (25% to 95% of the decisions): the machine's busy
    share and each role's CPU per report, so a machine too small to scale shows.
    """
    pids = {"warehouse": stack.start_warehouse().pid}
    names = [f"worker-{i}" for i in range(workers)]
    for name in names:
        pids[name] = stack.start_worker(name).pid
    if forward:  # counted in the "worker" role: it stands in for one
        names.append("worker-forward")
        pids["worker-forward"] = stack.spawn("worker-forward", "bench.forward_app").pid
    assert stack.broker.pid is not None, "the broker is not running"
    pids["broker"] = stack.broker.pid
    samples, seen = [], 0
    looks: list[CpuLook] = []  # at 25% and at 95% of the decisions
    deadline = time.monotonic() + 180 + n / FLOOR_RATE
    moved = time.monotonic()
    while seen < n:
        time.sleep(0.25)
        stack.check_alive()
        now, before, seen = time.monotonic(), seen, stack.decided() or 0
        samples.append((time.perf_counter(), seen))
        if len(looks) < 2 and seen >= (0.25, 0.95)[len(looks)] * n:
            looks.append(CpuLook.take(seen, pids))
        moved = now if seen > before else moved
        if seen >= 0.95 * n and now - moved > GIVE_UP_SECONDS:
            progress(f"  {n - seen} row(s) missing after {GIVE_UP_SECONDS:.0f} s")
            break
        if now > deadline:
            raise TimeoutError(f"the warehouse holds {seen} of {n} decisions")
    settled: dict[str, float] = {}
    if settle is not None and len(looks) == 2:
        settled = {f"settled_{k}": v for k, v in cpu_use(looks[0], settle(pids, seen)).items()}
    for name in [*names, "warehouse"]:  # the warehouse last: it flushes what they sent
        stack.stop_process(name)
    distinct, raw = count_decisions(stack)
    rate = drain_rate(samples, n)  # raises unless 95% arrived, so both looks were taken
    return rate, n - distinct, raw - distinct, {**cpu_use(*looks), **settled}


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
        stateful = passthrough(stack, n, stateful_app)
        progress(f"  pass-through + one table write per event: {stateful:,.0f} events/s")
        receive = receive_only(stack, n)
        progress(f"  bare Faust agent, receive only: {receive:,.0f} events/s")
        one, missing, copies, cpu_one = pipeline(stack, n, workers=1)
        restarts = stack.worker_restarts()
        progress(f"  one worker + sink: {one:,.0f} reports/s; CPU {show_cpu(cpu_one)}")
    with BenchStack(root / "two") as stack:
        preload(stack, data)
        two, missing_two, copies_two, cpu_two = pipeline(stack, n, workers=2)
        restarts += stack.worker_restarts()
        missing += missing_two
        copies += copies_two
        progress(f"  two workers + sink: {two:,.0f} reports/s; CPU {show_cpu(cpu_two)}")
    with BenchStack(root / "free") as stack:
        sources = [topics.TopicSpec(source, PARTITIONS) for source in forward_app.ROUTES]
        create_topics(stack.bootstrap, sources)
        for source, messages in decide_beforehand(data).items():
            stack.publish(source, messages)
        free, missing_free, copies_free, cpu_free = pipeline(stack, n, workers=0, forward=True)
        missing += missing_free
        copies += copies_free
        progress(f"  free worker + sink: {free:,.0f} reports/s; CPU {show_cpu(cpu_free)}")
    return {
        "raw": raw,
        "faust": faust,
        "receive": receive,
        "receive_share": faust / receive,
        "stateful": stateful,
        "stateful_share": stateful / faust,
        "one": one,
        "two": two,
        "vs_faust": one / faust,
        "scaling": two / one,
        "free": free,
        "ceiling": free / faust,
        "of_ceiling": one / free,
        "restarts": restarts,
        "missing": missing,
        "copies": copies,
        **{f"one_{k}": v for k, v in cpu_one.items()},
        **{f"two_{k}": v for k, v in cpu_two.items()},
        **{f"free_{k}": v for k, v in cpu_free.items()},
    }


def show_cpu(cpu: dict[str, float]) -> str:
    roles = ", ".join(f"{k[:-3]} {v:.2f}" for k, v in cpu.items() if k.endswith("_ms"))
    return f"machine {cpu['busy']:.0%} busy; ms per report: {roles}"


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
            f"yardstick: the pass-through + one table write per event ({where})",
            r["stateful"].show() + " events/s",
        ),
        (
            "pass-through + table write / pass-through, per run: the most a worker keeping "
            "one ledger record per report can reach",
            r["stateful_share"].show(".2f"),
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
        (
            "ceiling: a worker that costs nothing (decisions made beforehand, forwarded by a "
            f"bare Faust agent) + sink -> rows in chDB ({where})",
            r["free"].show() + " reports/s",
        ),
        (
            "ceiling / bare Faust pass-through, per run: the most end to end can reach here "
            "with one Kafka message per report",
            r["ceiling"].show(".2f"),
        ),
        ("end to end, one worker / the ceiling, per run", r["of_ceiling"].show(".2f")),
        *cpu_rows(r, "one worker + sink", "one"),
        *cpu_rows(r, "two workers + sink", "two"),
        *cpu_rows(r, "free worker + sink", "free"),
        ("worker restarts by its stall watchdog during these runs", r["restarts"].show()),
        (
            f"decisions missing from the warehouse, distinct reports counted after the stack "
            f"stopped (of {n:,} per pipeline run, its three pipelines added up)",
            r["missing"].show(),
        ),
        (
            "decisions written twice (at-least-once copies after a rebalance or restart; "
            "the warehouse's views count each once)",
            r["copies"].show(),
        ),
    ]


def cpu_rows(r: dict[str, Runs], what: str, prefix: str) -> list[Row]:
    """Where the CPU went while ``what`` drained (the rate's window)."""
    rows: list[Row] = [
        (
            f"{what}: the machine's CPU busy, all cores (1.00 = every core all the time)",
            r[f"{prefix}_busy"].show(".2f"),
        )
    ]
    roles = {
        "worker": "the worker(s), added up",
        "warehouse": "the sink (warehouse service)",
        "broker": "the broker",
    }
    for role, label in roles.items():
        rows.append((f"{what}: CPU ms per report, {label}", r[f"{prefix}_{role}_ms"].show(".2f")))
    return rows
