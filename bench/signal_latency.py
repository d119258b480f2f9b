"""From a report to its signal on the ``alerts`` topic, at a steady 100 reports/s.

The real stack runs (Tansu, `baocao worker` with signals on, `baocao warehouse`). Every
report is built to raise exactly one known signal: the demo registry's districts, days
in order, the same figures every day with one case of unknown source, so the
unknown-source rule fires (``anomaly:unknown_source:<unit>:cases_unknown_source:<day>``)
and no other rule does (checked beforehand in process with the engine itself). Reports
go out with ``bench.latency.submit_paced``, each stamped when handed to the producer; a
consumer of ``alerts`` stamps each alert_id when it first sees it.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
import time
import uuid
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer

from bench.common import TZ, Runs, Scale, collect, percentile, progress, wait_until
from bench.latency import RATE, submit_paced
from bench.record import Figure, load_now
from bench.signal_replay import Replay
from bench.stack import BenchStack
from contract import topics
from contract.datasets import Catalog
from contract.events import ReportSubmitted
from contract.registry import Registry
from contract.settings import Settings
from producers.kafka import ReportProducer
from streams.signal_watch import ROLL_UP_WITHIN_S, engine_of

DATASET = "district-daily"
FIRST_DAY = date(2021, 6, 1)
DURATIONS: dict[Scale, float] = {"small": 10.0, "full": 60.0}
WARM_UP = 50  # one day of the demo's districts
#: After the last report, how long to wait for signals still to come (a worker that falls
#: behind catches up in this time, so its latencies count rather than drop out).
GRACE_SECONDS = 120.0
#: The watcher's fetch wait: how late it may see an alert the broker already holds.
FETCH_WAIT_MS = 20
TARGET_SECONDS = 2.0
#: The same every day: one case of unknown source; no quiet run (a community case every
#: day), no rise (flat cases and positivity); valid under every rule of the dataset.
VALUES = {
    "cases_new": 2,
    "cases_community": 1,
    "cases_unknown_source": 1,
    "cases_quarantined": 0,
    "tests_pcr": 100,
    "tests_pcr_positive": 2,
    "tests_antigen": 50,
    "tests_antigen_positive": 0,
}
_NS = uuid.UUID("5d1c9a52-24a1-4b65-9c2e-3c0b7f6e2a18")


def signal_of(report: ReportSubmitted) -> str:
    """The alert_id the report's unknown-source signal goes out with."""
    day = report.report_date.isoformat()
    return f"anomaly:unknown_source:{report.unit_id}:cases_unknown_source:{day}"


def unknown_source_reports(count: int, first: date = FIRST_DAY) -> list[ReportSubmitted]:
    """``count`` on-time reports, every district one a day, days in order from ``first``."""
    registry = Registry.load()
    out: list[ReportSubmitted] = []
    day = first
    while len(out) < count:
        at = datetime.combine(day, clock_time(10), tzinfo=TZ)
        for unit in sorted(registry.expected(DATASET, day), key=lambda u: u.unit_id):
            out.append(
                ReportSubmitted(
                    report_id=uuid.uuid5(_NS, f"{unit.unit_id}/{day.isoformat()}"),
                    dataset=DATASET,
                    unit_id=unit.unit_id,
                    report_date=day,
                    submitted_at=at,
                    submitted_by="bench:signals",
                    values=VALUES,
                )
            )
        day += timedelta(days=1)
    return out[:count]


def check_signals(reports: list[ReportSubmitted]) -> set[str]:
    """Raise unless the engine gives each report exactly its one signal for its unit.

    Return every anomaly alert_id the engine raises, the areas' roll-ups included.
    """
    registry, catalog = Registry.load(), Catalog.load()
    replay = Replay(engine_of(Settings(), registry, catalog))
    anomalies: set[str] = set()
    for report in reports:
        rev = [1, report.submitted_at.isoformat(), str(report.report_id)]
        values = replay.engine.extract(DATASET, report.values)
        outcomes = replay.report(report.unit_id, DATASET, report.report_date, rev, values)
        own = [a.alert_id for a in outcomes[0].alerts if a.kind == "anomaly"] if outcomes else []
        if own != [signal_of(report)]:
            raise RuntimeError(f"{report.unit_id} {report.report_date}: signals {own}")
        anomalies.update(a.alert_id for o in outcomes for a in o.alerts if a.kind == "anomaly")
    return anomalies


class AlertWatcher:
    """Stamp each alert_id with when a consumer of ``alerts`` first saw it."""

    def __init__(self, bootstrap: str) -> None:
        self.consumer = KafkaConsumer(
            topics.ALERTS,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=FETCH_WAIT_MS,
        )
        self.seen: dict[str, float] = {}
        self.copies = 0  # an alert_id seen again: sent more than once

    def watch(self, stop: threading.Event) -> None:
        while not stop.is_set():
            for records in self.consumer.poll(50, max_records=5000).values():
                now = time.perf_counter()
                for r in records:
                    aid = r.value.split(b'"alert_id":"', 1)[1].split(b'"', 1)[0].decode()
                    if aid in self.seen:
                        self.copies += 1
                    self.seen.setdefault(aid, now)


def once(duration: float, root: Path) -> dict[str, Any]:
    count = int(RATE * duration)
    data = unknown_source_reports(WARM_UP + count)
    anomalies = check_signals(data)
    with BenchStack(root) as stack, ReportProducer(stack.settings) as producer:
        watcher = AlertWatcher(stack.bootstrap)
        stop = threading.Event()
        thread = threading.Thread(target=watcher.watch, args=(stop,), daemon=True)
        thread.start()
        try:
            stack.start_warehouse()
            stack.start_worker()
            # Warm up: the worker joined its group and raises signals.
            producer.send(data[:WARM_UP])
            wanted = {signal_of(r) for r in data[:WARM_UP]}
            wait_until("the warm-up signals", lambda: wanted <= watcher.seen.keys(), 180)
            sent, rate = submit_paced(producer, data[WARM_UP:])
            expected = {str(r.report_id): signal_of(r) for r in data[WARM_UP:]}
            with contextlib.suppress(TimeoutError):  # stragglers are counted as unseen
                wait_until(
                    "every report's own signal",
                    lambda: set(expected.values()) <= watcher.seen.keys(),
                    GRACE_SECONDS,
                )
            # The areas' roll-ups follow within a batch (streams.signal_watch), on sums
            # that depend on how the batches fell: counted, not required to match.
            time.sleep(2 * ROLL_UP_WITHIN_S + 1.0)
        finally:
            stop.set()
            thread.join(timeout=60)
            watcher.consumer.close()
        stack.check_alive()
        restarts = stack.worker_restarts()
    anomalies_seen = {a for a in watcher.seen if a.startswith("anomaly:")}
    # In send order: a backlog that grows shows as a later tenth slower than the first.
    latencies = [
        watcher.seen[aid] - sent[rid] for rid, aid in expected.items() if aid in watcher.seen
    ]
    tenth = max(1, len(latencies) // 10)
    return {
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "max": max(latencies),
        "first_tenth_p50": percentile(latencies[:tenth], 50),
        "last_tenth_p50": percentile(latencies[-tenth:], 50),
        "timed": len(latencies),
        "unseen": count - len(latencies),
        "rate": rate,
        "anomalies_expected": len(anomalies),
        "anomalies_seen": len(anomalies & watcher.seen.keys()),
        "anomalies_unexpected": len(anomalies_seen - anomalies),
        "copies": watcher.copies,
        "missing_anomalies": sorted(anomalies - watcher.seen.keys())[:20],
        "restarts": restarts,
    }


def measure(scale: Scale, runs: int) -> tuple[dict[str, Runs], list[dict[str, Any]]]:
    duration = DURATIONS[scale]
    raw: list[dict[str, Any]] = []

    def one_run(i: int) -> dict[str, float]:
        progress(f"signal latency run {i + 1}/{runs}: {RATE} reports/s for {duration:.0f} s")
        load = load_now()
        with tempfile.TemporaryDirectory(prefix="bench-signal-latency-") as tmp:
            result = once(duration, Path(tmp))
        progress(f"  p50 {result['p50']:.2f} s, p95 {result['p95']:.2f} s")
        raw.append({**result, "duration": duration, "load_1min": load})
        return {k: v for k, v in result.items() if isinstance(v, int | float)}

    return collect(runs, one_run), raw


def figures(r: dict[str, Runs]) -> list[Figure]:
    p95 = r["p95"]
    return [
        Figure(
            f"report → its signal on `alerts`, {RATE} reports/s for "
            f"{r['timed'].median + r['unseen'].median:,.0f} reports (sent at "
            f"{r['rate'].median:.0f}/s; one unknown-source signal each, matched by alert_id; "
            f"{r['unseen'].median:.0f} unseen within {GRACE_SECONDS:.0f} s; "
            f"anomaly alerts with the areas' roll-ups: {r['anomalies_seen'].median:,.0f} of "
            f"{r['anomalies_expected'].median:,.0f} expected, "
            f"{r['anomalies_unexpected'].median:.0f} unexpected, {r['copies'].median:.0f} alerts "
            f"seen twice; watchdog restarts {r['restarts'].median:.0f})",
            f"p50 {r['p50'].median:.2f} s, **p95 {p95.show('.2f', ' s')}**, "
            f"p99 {r['p99'].median:.2f} s, max {r['max'].median:.2f} s; median of the first "
            f"→ last tenth sent {r['first_tenth_p50'].median:.2f} → "
            f"{r['last_tenth_p50'].median:.2f} s",
            f"p95 ≤ {TARGET_SECONDS:g} s",
            p95.median <= TARGET_SECONDS and r["unseen"].median == 0,
        )
    ]
