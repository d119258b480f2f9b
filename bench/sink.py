"""The sink alone: accepted reports on the broker -> value rows in chDB, next to chDB itself.

Each run pre-loads N accepted reports (decided by the real ``SubmissionProcessor``) on
``reports.accepted`` and runs the real ``SinkRunner`` in this process against a fresh
chDB warehouse, as the warehouse service runs it. Two yardsticks, in the same run and
process, each inserting the same value rows in batches of the sink's size: as row
tuples (the issue's yardstick), and as the columns the sink itself sends (column-
oriented, instants as ticks: the fastest insert clickhouse-connect offers).
"""

from __future__ import annotations

import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import TZ, Row, Scale, collect, drain_rate, progress, reports
from bench.stack import PARTITIONS, BenchStack
from contract import topics
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.events import ReportAccepted, SourceRef
from contract.registry import Registry
from contract.settings import Settings
from sinks.consumer import SinkRunner
from sinks.rows import REPORT_VALUES_COLUMNS as COLUMNS
from sinks.rows import ColumnBlock, ReportValues
from streams.processor import Stored, SubmissionProcessor
from warehouse.client import Warehouse
from warehouse.table import Row as TableRow

SIZES: dict[Scale, int] = {"small": 5_000, "full": 100_000}
#: Rows per insert of the yardstick: the sink's own batch size (Settings.sink_batch_rows).
YARDSTICK_BATCH: int = Settings.model_fields["sink_batch_rows"].default


def accepted(n: int) -> list[tuple[bytes, bytes]]:
    """(key, value) of n accepted reports, decided by the stream's processor."""
    proc = SubmissionProcessor(
        Registry.load(), Catalog.load(), TZ, ManualClock(datetime(2021, 7, 28, tzinfo=UTC)), 65536
    )
    ledger: dict[str, Stored] = {}
    out: list[tuple[bytes, bytes]] = []
    for i, report in enumerate(reports(n + n // 5)):  # about 1 in 20 is rejected
        ref = SourceRef(topic=topics.SUBMITTED, partition=0, offset=i)
        decision = proc.process(
            report.unit_id.encode(), report.to_json(), ref, ledger.get, ledger.__setitem__
        )
        if decision is not None and decision.topic == topics.ACCEPTED:
            out.append((decision.key, decision.value))
            if len(out) == n:
                return out
    raise RuntimeError(f"only {len(out)} of {n} reports were accepted")


def sink_rate(settings: Settings, expected_rows: int) -> float:
    """Value rows per second the sink writes while it drains reports.accepted."""
    stop = threading.Event()
    with Warehouse.connect(settings) as wh:
        wh.ensure_schema()
        runner = SinkRunner(settings, wh)
        thread = threading.Thread(target=runner.run, args=(stop,), name="sink", daemon=True)
        thread.start()
        samples, written = [], 0
        deadline = time.monotonic() + 120 + expected_rows / 5_000
        try:
            while written < expected_rows:
                time.sleep(0.05)
                written = runner.sink.stats.rows_written.get("report_values", 0)
                samples.append((time.perf_counter(), written))
                if not thread.is_alive():
                    raise RuntimeError("the sink thread stopped")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the sink wrote {written} of {expected_rows} rows")
        finally:
            stop.set()
            thread.join(timeout=60)
    return drain_rate(samples, expected_rows)


Batch = tuple[ColumnBlock, list[TableRow]]


def insert_rate(settings: Settings, batches: list[Batch], column_oriented: bool) -> float:
    """Rows per second chDB inserts the batches (as columns or as row tuples), fresh table."""
    name = "columns" if column_oriented else "rows"
    yardstick = settings.model_copy(update={"database": f"bench_yardstick_{name}"})
    with Warehouse.connect(yardstick) as wh:
        wh.ensure_schema()
        t0 = time.perf_counter()
        for block, rows in batches:
            data = block.columns if column_oriented else rows
            wh.insert("report_values", data, COLUMNS, column_oriented=column_oriented)
        return sum(b.size for b, _ in batches) / (time.perf_counter() - t0)


def value_batches(messages: list[tuple[bytes, bytes]]) -> list[Batch]:
    """The messages' value rows in batches of the sink's size (whole reports per batch).

    Each batch twice: as the sink's columns, and as row tuples from ``sinks.rows``.
    """
    batches: list[Batch] = []
    for _, value in messages:
        if not batches or batches[-1][0].size >= YARDSTICK_BATCH:
            batches.append((ColumnBlock(len(COLUMNS)), []))
        report = ReportValues(ReportAccepted.model_validate_json(value))
        batches[-1][0].add(report)
        batches[-1][1].extend(report.rows())
    return batches


def once(messages: list[tuple[bytes, bytes]], root: Path) -> dict[str, float]:
    batches = value_batches(messages)
    rows = sum(b.size for b, _ in batches)
    with BenchStack(root) as stack:
        stack.publish(topics.ACCEPTED, messages)
        settings = stack.settings
        sink = sink_rate(settings, rows)
        progress(f"  sink: {sink:,.0f} value rows/s")
        as_rows = insert_rate(settings, batches, column_oriented=False)
        as_columns = insert_rate(settings, batches, column_oriented=True)
        progress(
            f"  chDB insert, batches of {YARDSTICK_BATCH:,}: {as_rows:,.0f} rows/s as rows,"
            f" {as_columns:,.0f} as columns"
        )
    return {
        "sink": sink,
        "chdb": as_rows,
        "chdb_columns": as_columns,
        "ratio": sink / as_rows,
        "ratio_columns": sink / as_columns,
        "rows": rows,
    }


def run(scale: Scale, runs: int) -> list[Row]:
    n = SIZES[scale]
    messages = accepted(n)

    def one_run(i: int) -> dict[str, float]:
        progress(f"sink run {i + 1}/{runs}: {n:,} accepted reports")
        with tempfile.TemporaryDirectory(prefix="bench-sink-") as tmp:
            return once(messages, Path(tmp))

    r = collect(runs, one_run)
    rows = int(r["rows"].median)
    where = f"{n:,} accepted reports = {rows:,} value rows, {PARTITIONS} partitions"
    return [
        (
            f"yardstick: chDB insert of the same value rows as row tuples (`sinks.rows`),"
            f" batches of {YARDSTICK_BATCH:,}",
            r["chdb"].show() + " rows/s",
        ),
        (
            "yardstick: the same batches as the sink sends them (columns, instants as ticks)",
            r["chdb_columns"].show() + " rows/s",
        ),
        (
            f"sink alone: reports.accepted -> value rows in chDB ({where})",
            r["sink"].show() + " rows/s",
        ),
        ("sink / chDB insert as rows (target >= 0.5)", r["ratio"].show(".2f")),
        ("sink / chDB insert as columns", r["ratio_columns"].show(".2f")),
    ]
