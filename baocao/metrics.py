"""Metrics in the Prometheus text exposition format (version 0.0.4), for ``GET /metrics``.

Written by hand: a few gauges and counters gathered on each scrape from what already
exists (broker offsets, the sink runner's counters, warehouse row counts), so the
service needs no metrics library and keeps no second set of counters.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from baocao.status import StatusReport

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Labels = dict[str, str]


@dataclass
class Metric:
    """One metric family: name (a counter's ends in ``_total``), type, help and samples."""

    name: str
    kind: Literal["gauge", "counter"]
    help: str
    samples: list[tuple[Labels, float]] = field(default_factory=list)

    def add(self, value: float, **labels: str) -> Metric:
        self.samples.append((labels, value))
        return self


def _escape(text: str, quote: bool) -> str:
    text = text.replace("\\", "\\\\").replace("\n", "\\n")
    return text.replace('"', '\\"') if quote else text


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render(metrics: Iterable[Metric]) -> str:
    """The exposition text: HELP and TYPE lines, then one line per sample."""
    lines: list[str] = []
    for m in metrics:
        lines.append(f"# HELP {m.name} {_escape(m.help, quote=False)}")
        lines.append(f"# TYPE {m.name} {m.kind}")
        for labels, value in m.samples:
            text = ",".join(f'{k}="{_escape(v, quote=True)}"' for k, v in sorted(labels.items()))
            sample = f"{m.name}{{{text}}}" if text else m.name
            lines.append(f"{sample} {_number(value)}")
    return "\n".join(lines) + "\n"


def broker_metrics(report: StatusReport) -> list[Metric]:
    """Broker reachability, and per consumer group and topic: lag and committed offsets."""
    up = Metric("baocao_broker_up", "gauge", "1 if the Kafka broker answered this scrape")
    up.add(1 if report.broker_ok else 0)
    lag = Metric("baocao_consumer_lag", "gauge", "messages not yet committed by the group")
    done = Metric(
        "baocao_consumer_committed_offset", "gauge", "sum of the group's committed offsets"
    )
    end = Metric("baocao_topic_end_offset", "gauge", "sum of the topic's end offsets")
    ends: dict[str, int] = {}
    for t in report.lags:
        lag.add(t.lag, group=t.group, topic=t.topic)
        done.add(t.committed, group=t.group, topic=t.topic)
        ends[t.topic] = t.end
    for topic, offset in sorted(ends.items()):
        end.add(offset, topic=topic)
    return [up, lag, done, end]


def sink_metrics(stats: dict[str, Any]) -> list[Metric]:
    """The sink runner's counters, as ``runner_stats`` reports them."""
    gauge: Literal["gauge"] = "gauge"
    counter: Literal["counter"] = "counter"
    simple: list[tuple[str, Literal["gauge", "counter"], str, str]] = [
        ("baocao_sink_running", gauge, "running", "1 while the sink's consumer loop runs"),
        ("baocao_sink_paused", gauge, "paused", "1 while the warehouse is unavailable"),
        ("baocao_sink_backlog_rows", gauge, "pending_rows", "rows consumed, not yet written"),
        ("baocao_sink_messages_total", counter, "messages", "messages consumed"),
        ("baocao_sink_messages_written_total", counter, "messages_written", "messages written"),
        ("baocao_sink_batches_written_total", counter, "batches_written", "batches written"),
        ("baocao_sink_dead_letters_total", counter, "dead_letters", "undecodable messages"),
        ("baocao_sink_failures_total", counter, "failures", "failed warehouse writes (retried)"),
        ("baocao_sink_outages_total", counter, "outages", "times the warehouse became unavailable"),
        ("baocao_sink_rebalances_total", counter, "rebalances", "partition assignments received"),
    ]
    out = [
        Metric(name, kind, text).add(float(stats.get(key) or 0)) for name, kind, key, text in simple
    ]
    rows = Metric("baocao_sink_rows_written_total", "counter", "rows written per warehouse table")
    for table, n in sorted((stats.get("rows_written") or {}).items()):
        rows.add(n, table=table)
    out.append(rows)
    last = stats.get("last_flush_at")
    if isinstance(last, datetime):
        flushed = Metric(
            "baocao_sink_last_flush_timestamp_seconds", "gauge", "time of the last flush (Unix)"
        )
        out.append(flushed.add(last.timestamp()))
    return out


def warehouse_metrics(rows: dict[str, int] | None) -> list[Metric]:
    """Whether the warehouse answered, and its row count per table."""
    up = Metric("baocao_warehouse_up", "gauge", "1 if the warehouse answered this scrape")
    up.add(0 if rows is None else 1)
    counts = Metric("baocao_warehouse_rows", "gauge", "rows per warehouse table")
    for table, n in sorted((rows or {}).items()):
        counts.add(n, table=table)
    return [up, counts]


def outbox_metrics(counts: dict[str, int]) -> list[Metric]:
    m = Metric("baocao_outbox_submissions", "gauge", "submissions in the outbox by state")
    for state, n in sorted(counts.items()):
        m.add(n, state=state)
    return [m]
