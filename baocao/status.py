"""Gather what ``baocao status`` shows: broker, consumer lag, warehouse rows, last report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient

from baocao import warehouse_client
from contract import topics
from contract.kafka_offsets import end_offsets
from contract.kafka_security import client_kwargs
from contract.settings import Settings
from warehouse.errors import WarehouseUnavailable

#: Which consumer group reads which topics.
GROUPS = {
    topics.STREAMS_APP_ID: [topics.SUBMITTED, topics.APPROVALS],
    topics.SINK_GROUP: [
        topics.ACCEPTED,
        topics.REJECTED,
        topics.ALERTS,
        topics.LEVELS,
        topics.APPROVALS,
        topics.DEAD_LETTERS,
    ],
    topics.NOTIFY_GROUP: [topics.ALERTS],
}


@dataclass
class TopicLag:
    topic: str
    group: str
    end: int
    committed: int
    lag: int


@dataclass
class StatusReport:
    broker: str
    broker_ok: bool
    broker_error: str = ""
    lags: list[TopicLag] = field(default_factory=list)
    warehouse: dict[str, Any] | None = None
    warehouse_error: str = ""


class AdminClient(KafkaAdminClient):  # type: ignore[misc]  # kafka-python is untyped
    """kafka-python's admin client, tolerant of brokers that report unknown ACL operations."""

    def _process_acl_operations(self, obj: dict[str, Any]) -> dict[str, Any]:
        # Tansu answers DescribeGroups with operation codes kafka-python's enum lacks,
        # which makes describe_groups() raise; nothing here needs those codes.
        obj.pop("authorized_operations", None)
        return obj


def admin_client(settings: Settings, timeout_ms: int = 3000) -> AdminClient:
    """An admin client for the configured brokers (raises when none answers)."""
    return AdminClient(
        bootstrap_servers=settings.bootstrap_servers(),
        request_timeout_ms=timeout_ms,
        bootstrap_timeout_ms=timeout_ms,  # kafka-python waits 30 s for a dead broker otherwise
        **client_kwargs(settings),
    )


def broker_status(settings: Settings, report: StatusReport) -> None:
    try:
        admin = admin_client(settings)
    except Exception as exc:  # kafka-python raises several unrelated types here
        report.broker_error = str(exc)
        return
    report.broker_ok = True
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers(), **client_kwargs(settings)
    )
    try:
        existing = set(admin.list_topics())
        for group, names in GROUPS.items():
            committed = admin.list_group_offsets(group).get(group, {})
            for name in names:
                if name not in existing:
                    continue
                parts = consumer.partitions_for_topic(name) or set()
                tps = [TopicPartition(name, p) for p in sorted(parts)]
                ends = end_offsets(consumer, tps)
                done = {tp: committed[tp].offset if tp in committed else 0 for tp in tps}
                lag = sum(max(0, ends[tp] - done[tp]) for tp in tps)
                report.lags.append(
                    TopicLag(name, group, sum(ends.values()), sum(done.values()), lag)
                )
    finally:
        consumer.close()
        admin.close()


def warehouse_status(settings: Settings, report: StatusReport) -> None:
    """Ask the running warehouse service, or the warehouse itself when none runs."""
    try:
        report.warehouse = warehouse_client.ask(settings, "/api/status", warehouse_summary, 5)
    except WarehouseUnavailable as exc:
        report.warehouse_error = str(exc)


def warehouse_summary(wh: Any) -> dict[str, Any]:
    """Row counts and the newest report, read from the warehouse's views."""
    counts = {}
    for table in ("reports", "report_values", "rejections", "alerts", "units", "dead_letters"):
        rows = wh.query_rows(f"SELECT count() FROM {table}")
        counts[table] = int(rows[0][0])
    latest = wh.query_rows(
        "SELECT unit_id, dataset, report_date, revision, submitted_at FROM reports "
        "ORDER BY accepted_at DESC LIMIT 1"
    )
    last = None
    if latest:
        u, d, day, rev, at = latest[0]
        last = {
            "unit_id": u,
            "dataset": d,
            "report_date": str(day),
            "revision": int(rev),
            "submitted_at": str(at),
        }
    return {"rows": counts, "last_report": last}


def gather(settings: Settings) -> StatusReport:
    report = StatusReport(broker=settings.broker, broker_ok=False)
    broker_status(settings, report)
    warehouse_status(settings, report)
    return report
