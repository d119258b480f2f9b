"""The pipeline's stages one at a time: validate, publish, one worker, the deadline watch."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from kafka import KafkaConsumer

from baocao import procs
from baocao.broker import EmbeddedBroker, create_topics
from bench.common import TZ, Row, median_rate, reports
from contract import topics
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.events import SourceRef
from contract.registry import Registry
from contract.settings import Settings
from producers.kafka import ReportProducer
from streams.processor import Stored, SubmissionProcessor


def bench_validate(n: int) -> float:
    """Submissions per second through decode + rules + ledger (no broker)."""
    data = [(r.unit_id.encode(), r.to_json()) for r in reports(n)]
    proc = SubmissionProcessor(
        Registry.load(), Catalog.load(), TZ, ManualClock(datetime(2021, 7, 28, tzinfo=UTC)), 65536
    )

    def once() -> float:
        ledger: dict[str, Stored] = {}
        t0 = time.perf_counter()
        for i, (k, v) in enumerate(data):
            proc.process(
                k, v, SourceRef(topic="b", partition=0, offset=i), ledger.get, ledger.__setitem__
            )
        return time.perf_counter() - t0

    return median_rate(3, n, once)


def bench_produce(broker: EmbeddedBroker, n: int) -> float:
    """Reports per second published with acks=all, batched (kafka-python + crc32c)."""
    data = reports(n)
    settings = Settings(broker=broker.bootstrap)

    def once() -> float:
        with ReportProducer(settings, topic="bench.produce") as producer:
            t0 = time.perf_counter()
            producer.send(data)
            return time.perf_counter() - t0

    create_topics(broker.bootstrap, [topics.TopicSpec("bench.produce", 4)])
    return median_rate(3, n, once)


def bench_worker(broker: EmbeddedBroker, n: int, workdir: Path) -> float:
    """Reports per second through one real Faust worker process, submitted -> decided."""
    create_topics(broker.bootstrap, topics.specs(4))
    env = {**os.environ, "BAOCAO_BROKER": broker.bootstrap, "BAOCAO_PARTITIONS": "4"}
    log = open(workdir / "worker.log", "ab")  # noqa: SIM115
    worker = procs.spawn([sys.executable, "-m", "baocao", "worker"], log, env)
    try:
        consumer = KafkaConsumer(
            topics.ACCEPTED,
            topics.REJECTED,
            bootstrap_servers=broker.bootstrap,
            auto_offset_reset="earliest",
            group_id="bench",
        )
        # Warm up: wait until the worker has joined and decided one report.
        with ReportProducer(Settings(broker=broker.bootstrap)) as producer:
            producer.send(reports(1))
            seen = 0
            while seen < 1:
                seen += sum(len(v) for v in consumer.poll(1000).values())
            data = reports(n + 1)[1:]
            t0 = time.perf_counter()
            producer.send(data)
        seen = 0
        while seen < n:
            seen += sum(len(v) for v in consumer.poll(1000, max_records=5000).values())
        elapsed = time.perf_counter() - t0
        consumer.close()
        return n / elapsed
    finally:
        procs.stop(worker)


def bench_deadline(broker: EmbeddedBroker, units: int, workdir: Path) -> tuple[float, float]:
    """Seconds from the deadline instant to the last missing alert, and to the summary."""
    from contract.clock import FileClock
    from contract.registry import Unit, UnitKind

    day = date(2021, 7, 27)
    province = Unit(unit_id="19", name="Tỉnh Thái Nguyên", kind=UnitKind.PROVINCE, province_id="19")
    communes = [
        Unit(
            unit_id=f"B{n:05d}",
            name=f"Xã {n}",
            kind=UnitKind.COMMUNE,
            parent_id="19",
            province_id="19",
            datasets=["district-daily"],
            active_from=day,
        )
        for n in range(units)
    ]
    Registry([province, *communes]).dump(workdir / "registry-bench.json")
    clock = FileClock(workdir / "clock")
    clock.set(datetime(2021, 7, 27, 13, 0, tzinfo=TZ))
    create_topics(broker.bootstrap, topics.specs(4))
    env = {
        **os.environ,
        "BAOCAO_BROKER": broker.bootstrap,
        "BAOCAO_PARTITIONS": "4",
        "BAOCAO_REGISTRY_PATH": str(workdir / "registry-bench.json"),
        "BAOCAO_CLOCK_FILE": str(workdir / "clock"),
        "BAOCAO_WATCH_HOLD_HOURS": "12",
    }
    log = open(workdir / "worker-deadline.log", "ab")  # noqa: SIM115
    worker = procs.spawn([sys.executable, "-m", "baocao", "worker"], log, env)
    try:
        consumer = KafkaConsumer(
            topics.ALERTS, bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest"
        )
        time.sleep(20)  # the worker joins its group and starts ticking at 13:00
        clock.set(datetime(2021, 7, 27, 15, 0, tzinfo=TZ))
        t0 = time.perf_counter()
        missing, last_missing, summary = 0, 0.0, 0.0
        while (missing < units or not summary) and time.perf_counter() - t0 < 120:
            for records in consumer.poll(200, max_records=5000).values():
                for r in records:
                    if r.value.startswith(b'{"schema":"baocao.alert/v1","alert_id":"missing:'):
                        missing, last_missing = missing + 1, time.perf_counter() - t0
                    elif b'"alert_id":"summary:district-daily:deadline' in r.value:
                        summary = time.perf_counter() - t0
        consumer.close()
        if missing < units or not summary:
            raise RuntimeError(f"only {missing} missing alerts (summary: {bool(summary)})")
        return last_missing, summary
    finally:
        procs.stop(worker)


def run(n: int) -> list[Row]:
    """The stage rows `make bench` has always printed, measured the same way."""
    rows: list[Row] = []
    rows.append(
        (
            "validate + rules + ledger, one core (no broker)",
            f"{bench_validate(n):,.0f} reports/s",
        )
    )
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker() as broker:
        rows.append(
            (
                "publish, kafka-python batched, acks=all",
                f"{bench_produce(broker, n):,.0f} reports/s",
            )
        )
        rows.append(
            (
                "one Faust worker, submitted -> accepted/rejected",
                f"{bench_worker(broker, min(n, 10_000), Path(tmp)):,.0f} reports/s",
            )
        )
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker() as broker:
        last_missing, summary = bench_deadline(broker, 10_000, Path(tmp))
        rows.append(
            (
                "deadline watch, 10,000 expected units: deadline -> last missing alert / summary",
                f"{last_missing:.1f} s / {summary:.1f} s (target <= 5 s)",
            )
        )
    return rows
