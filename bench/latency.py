"""Latency from submission to visibility in the warehouse, at a steady 100 reports/s.

The real stack runs (Tansu, `baocao worker`, `baocao warehouse` with its default flush
interval); reports go out with ``ReportProducer`` in ticks of 10 every 100 ms, each
stamped when handed to the producer. A watcher asks the warehouse service's
``/api/status`` every ``POLL_SECONDS``; when the count of decided reports moves it reads
``/api/ledger-history`` (every accepted report_id) and stamps the ids it sees first.
A latency is therefore an upper bound, late by at most one poll plus one read.
Rejected reports never reach that list; they are counted, not timed.

Where the time goes (``stages``): each decision's ``accepted_at`` (stamped by the worker
as it decides) and its record's timestamp on ``reports.accepted`` (stamped by the
worker's producer as it publishes, which waits for the input's commit) split a latency
into sent -> decided -> published -> seen; every process runs on this machine's clock.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

from kafka import KafkaConsumer

from baocao.broker import configured_kind
from bench.common import Row, Scale, collect, percentile, progress, reports, wait_until
from bench.stack import BenchStack
from contract import topics
from contract.events import ReportSubmitted
from contract.settings import Settings
from producers.kafka import ReportProducer

RATE = 100  # reports per second
#: p95 targets per broker: Apache Kafka answers a fetch as soon as data arrives, Tansu
#: holds it for its full wait (issue 25).
TARGET_P95 = {"tansu": 2.0, "kafka": 1.0}
TICK = 0.1  # seconds between sends
DURATIONS: dict[Scale, float] = {"small": 10.0, "full": 60.0}
POLL_SECONDS = 0.2
WARM_UP = 20
#: How long after the last submission the watcher keeps looking for stragglers.
GRACE_SECONDS = 30.0


class Watcher:
    """Stamp each accepted report_id with when the warehouse service first showed it."""

    def __init__(self, stack: BenchStack) -> None:
        self.stack = stack
        self.seen: dict[str, float] = {}
        self.reads: list[float] = []  # seconds each ledger-history read took
        self.decided = 0

    def poll(self) -> None:
        decided = self.stack.decided()
        if decided is None or decided == self.decided:
            return
        t0 = time.perf_counter()
        rows = self.stack.get("/api/ledger-history", timeout=30)
        now = time.perf_counter()
        if rows is None:  # not read: try again at the next poll
            return
        self.reads.append(now - t0)
        self.decided = decided
        for row in rows:
            self.seen.setdefault(row["report_id"], now)

    def watch(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.poll()
            stop.wait(POLL_SECONDS)


def submit_paced(
    producer: ReportProducer, data: list[ReportSubmitted]
) -> tuple[dict[str, float], float]:
    """Send ``RATE`` reports a second on a fixed schedule.

    Return when each report was handed to the producer, and the rate achieved.
    """
    per_tick = int(RATE * TICK)
    sent: dict[str, float] = {}
    start = time.perf_counter()
    for k in range(0, len(data), per_tick):
        due = start + (k // per_tick) * TICK
        time.sleep(max(0.0, due - time.perf_counter()))
        chunk = data[k : k + per_tick]
        at = time.perf_counter()
        producer.send(chunk)
        sent.update((str(r.report_id), at) for r in chunk)
    return sent, len(data) / (time.perf_counter() - start)


#: The legs of a latency, in order (``stages``).
LEGS = ("decided", "published", "seen")


def stages(bootstrap: str, sent: dict[str, float], seen: dict[str, float]) -> dict[str, float]:
    """p50 and p95 of each leg: sent -> decided -> published -> seen in the warehouse.

    ``sent`` and ``seen`` are ``time.time()`` stamps per report_id; a report counts once
    (its first decision record), and only when all three stamps exist.
    """
    consumer = KafkaConsumer(
        topics.ACCEPTED,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=3000,
    )
    legs: dict[str, list[float]] = {leg: [] for leg in LEGS}
    done: set[str] = set()
    try:
        for record in consumer:
            decision = json.loads(record.value)
            rid = str(decision["report_id"])
            if rid in done or rid not in sent or rid not in seen:
                continue
            done.add(rid)
            decided = datetime.fromisoformat(decision["accepted_at"]).timestamp()
            published = record.timestamp / 1000
            legs["decided"].append(decided - sent[rid])
            legs["published"].append(published - decided)
            legs["seen"].append(seen[rid] - published)
    finally:
        consumer.close()
    out: dict[str, float] = {"staged": float(len(done))}
    for leg, values in legs.items():
        if values:
            out[f"{leg}_p50"] = percentile(values, 50)
            out[f"{leg}_p95"] = percentile(values, 95)
    return out


def batching() -> str:
    """How long the worker and the sink hold outputs, as the children will see it."""
    settings = Settings()  # the children read the same environment
    return (
        f"worker publishes on commit, every {settings.worker_commit_seconds:g} s; "
        f"sink flushes every {settings.sink_flush_seconds:g} s"
    )


def rejections(stack: BenchStack) -> int:
    status = stack.get("/api/status")
    return int(status["rows"]["rejections"]) if status else 0


def once(duration: float, root: Path) -> dict[str, float]:
    count = int(RATE * duration)
    data = reports(WARM_UP + count)
    with BenchStack(root) as stack, ReportProducer(stack.settings) as producer:
        stack.start_warehouse()
        stack.start_worker()
        # Warm up: both processes joined their groups and a flush went through.
        producer.send(data[:WARM_UP])
        wait_until("the warm-up reports", lambda: (stack.decided() or 0) >= WARM_UP, 180)
        rejected_before = rejections(stack)
        watcher = Watcher(stack)
        watcher.poll()
        stop = threading.Event()
        thread = threading.Thread(target=watcher.watch, args=(stop,), daemon=True)
        thread.start()
        try:
            sent, rate = submit_paced(producer, data[WARM_UP:])
            with contextlib.suppress(TimeoutError):  # stragglers are counted as unseen
                wait_until(
                    "every decision in the warehouse",
                    lambda: watcher.decided >= WARM_UP + count,
                    GRACE_SECONDS,
                )
            time.sleep(2 * POLL_SECONDS)  # the watcher reads the list once more
        finally:
            stop.set()
            thread.join(timeout=60)
        stack.check_alive()
        rejected = rejections(stack) - rejected_before
        restarts = stack.worker_restarts()
        # perf_counter stamps on the wall clock the worker stamps its decisions with
        wall = time.time() - time.perf_counter()
        legs = stages(
            stack.bootstrap,
            {rid: at + wall for rid, at in sent.items()},
            {rid: at + wall for rid, at in watcher.seen.items()},
        )
    latencies = [watcher.seen[rid] - at for rid, at in sent.items() if rid in watcher.seen]
    return {
        **legs,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "max": max(latencies),
        "timed": len(latencies),
        "rejected": rejected,
        "unseen": count - len(latencies) - rejected,
        "rate": rate,
        "read": sum(watcher.reads) / len(watcher.reads),
        "restarts": restarts,
    }


def run(scale: Scale, runs: int) -> list[Row]:
    duration = DURATIONS[scale]

    def one_run(i: int) -> dict[str, float]:
        progress(f"latency run {i + 1}/{runs}: {RATE} reports/s for {duration:.0f} s")
        with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
            result = once(duration, Path(tmp))
        progress(
            f"  p50 {result['p50']:.2f} s, p95 {result['p95']:.2f} s; p95 of each leg: "
            + ", ".join(f"{leg} {result.get(f'{leg}_p95', float('nan')):.2f}" for leg in LEGS)
        )
        return result

    r = collect(runs, one_run)
    what = (
        f"latency submit -> visible in the warehouse, {RATE} reports/s for {duration:.0f} s "
        f"(sent at {r['rate'].median:.0f}/s; {r['timed'].median:.0f} accepted timed, "
        f"{r['rejected'].median:.0f} rejected, {r['unseen'].median:.0f} never seen within "
        f"{GRACE_SECONDS:.0f} s; resolution: {POLL_SECONDS} s poll "
        f"+ {r['read'].median * 1000:.0f} ms read; {batching()}; "
        f"worker restarts: {r['restarts'].show()})"
    )
    figures = ", ".join(f"{q} {r[q].median:.2f} s" for q in ("p50", "p95", "p99", "max"))
    each = f"; p95 per run: {r['p95'].show('.2f')}" if runs > 1 else ""
    if all(f"{leg}_p95" in r for leg in LEGS):
        figures += "; legs p50/p95: " + ", ".join(
            f"{leg} {r[f'{leg}_p50'].median:.2f}/{r[f'{leg}_p95'].median:.2f} s" for leg in LEGS
        )
    target = TARGET_P95[configured_kind()]
    return [(what, f"{figures} (target p95 <= {target:g} s){each}")]
