"""A simulated reporting day on real components: Tansu and `baocao worker` processes.

The worker follows the test's clock through BAOCAO_CLOCK_FILE. Three units: 164
reports on time, 165 late, 166 only after a second worker joined at the deadline and
one of the two was restarted. Every alert must come out exactly once, at the instant it was due.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer

from baocao.broker import create_topics
from baocao.reseed import write_changelog
from contract import topics
from contract.clock import FileClock
from contract.events import Alert, ReportSubmitted
from contract.registry import Registry, Unit
from contract.settings import Settings
from producers.kafka import ReportProducer
from sinks import rows
from streams.seed import ALERTS_SENT_CHANGELOG, alerts_sent_records, partition_for
from tests.integration.stack import PARTITIONS, Stack
from tests.support.deadlines import DAY, DS, at, small_registry
from warehouse.client import Warehouse
from warehouse.history import alert_history

pytestmark = pytest.mark.integration
#: Junk queued before a report: a few seconds of the worker's time (dead letters).
QUEUED = 3_000


def registry_from(day: date) -> Registry:
    """The small registry with districts that exist only from ``day`` (no escalation)."""
    units: list[Unit] = []
    for u in small_registry():
        if u.kind == "district" and u.active_to is None:
            u = u.model_copy(update={"active_from": day})
        units.append(u)
    return Registry(units)


class Watched:
    """The stack without the warehouse, an alerts reader and the test's clock."""

    def __init__(self, root: Path, store: str = "memory") -> None:
        self.stack = Stack(root)
        self.stack.env["BAOCAO_WORKER_STORE"] = store
        self.dirs: dict[Path, subprocess.Popen[bytes]] = {}
        registry_path = root / "registry.json"
        registry_from(DAY).dump(registry_path)
        self.clock = FileClock(root / "clock")
        self.clock.set(at(13))
        self.stack.env.update(
            BAOCAO_REGISTRY_PATH=str(registry_path),
            BAOCAO_CLOCK_FILE=str(root / "clock"),
            BAOCAO_WATCH_HOLD_HOURS="12",
        )
        self.alerts: list[Alert] = []
        self.consumer: KafkaConsumer | None = None

    def start(self, before_worker: Callable[[str], None] | None = None) -> None:
        self.stack.broker.start()
        create_topics(self.stack.broker.bootstrap, topics.specs(PARTITIONS))
        if before_worker is not None:
            before_worker(self.stack.broker.bootstrap)
        self.start_worker()
        self.consumer = KafkaConsumer(
            topics.ALERTS,
            bootstrap_servers=self.stack.broker.bootstrap,
            auto_offset_reset="earliest",
            group_id=f"t-{uuid.uuid4().hex[:8]}",
        )

    def close(self) -> None:
        if self.consumer is not None:
            self.consumer.close()
        self.stack.stop()

    def start_worker(self) -> None:
        """A worker as "worker", on the first state directory no running worker holds.

        With the rocksdb store, a worker started after another stopped reuses its tables.
        """
        free = next(
            d
            for d in (self.stack.root / f"state-{n}" for n in range(10))
            if d not in self.dirs or self.dirs[d].poll() is not None
        )
        self.dirs[free] = self.stack.start_process(
            "worker", env={"BAOCAO_WORKER_STATE_DIR": str(free)}
        )

    def submit(self, unit: str, when: datetime, *more: tuple[str, int]) -> None:
        """One report from ``unit`` and any (unit, cases_new) after it, in one send.

        Built without validation, so a negative count reaches the stream (which rejects it).
        """
        reports = [
            ReportSubmitted.model_construct(
                report_id=uuid.uuid4(),
                dataset=DS,
                unit_id=u,
                report_date=DAY,
                submitted_at=when,
                submitted_by="test",
                values={"cases_new": cases},
                reason="đếm lại / recounted",  # late corrections need one
            )
            for u, cases in [(unit, 1), *more]
        ]
        with ReportProducer(self.stack.settings) as producer:
            producer.send(reports)

    def read(self, seconds: float = 0.5) -> None:
        assert self.consumer is not None
        for records in self.consumer.poll(int(seconds * 1000)).values():
            self.alerts += [Alert.model_validate_json(r.value) for r in records]

    def wait_for(self, ids: set[str], timeout: float = 60.0) -> dict[str, Alert]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.read()
            got = {a.alert_id: a for a in self.alerts}
            if ids <= got.keys():
                return got
            for name, proc in self.stack.procs.items():
                assert proc.poll() is None, self.stack.log_tail(name)
        raise AssertionError(
            f"missing {ids - {a.alert_id for a in self.alerts}}\n{self.stack.log_tail('worker')}"
        )


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[Watched]:
    watched = Watched(tmp_path)
    yield watched
    watched.close()


@pytest.fixture
def day(watched: Watched) -> Watched:
    watched.start()
    return watched


def aid(kind: str, scope: str) -> str:
    return f"{kind}:{DS}:{scope}:{DAY.isoformat()}"


@pytest.fixture(params=["memory", "rocksdb"])
def day_on_each_store(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Watched]:
    """The watched day with the worker's tables in memory, then in RocksDB on disk."""
    watched = Watched(tmp_path, request.param)
    watched.start()
    yield watched
    watched.close()


def test_simulated_day_alerts_once_across_a_rebalance_at_the_deadline_and_a_restart(
    day_on_each_store: Watched,
) -> None:
    day = day_on_each_store
    day.clock.set(at(13, 30))
    day.submit("164", at(13, 30))
    time.sleep(8)  # the worker joins and looks at 13:30 a few times: nothing is due
    day.read(2)
    assert day.alerts == []

    day.clock.set(at(14, 0, 30))
    got = day.wait_for({aid("reminder", "165"), aid("reminder", "166")}, timeout=90)
    assert {a.alert_id for a in day.alerts} == {aid("reminder", "165"), aid("reminder", "166")}
    assert {a.raised_at for a in day.alerts} == {at(14, 0, 30)}

    # A second worker joins as the deadline passes: the rebalance and the deadline
    # coincide, and every deadline alert must still go out exactly once.
    day.stack.procs["worker2"] = day.stack.procs.pop("worker")
    day.start_worker()
    day.clock.set(at(15, 0, 30))
    deadline_ids = {aid("missing", "165"), aid("missing", "166"), aid("summary", "deadline")}
    got = day.wait_for(deadline_ids, timeout=120)
    assert all(got[i].raised_at == at(15, 0, 30) for i in deadline_ids)
    assert got[aid("missing", "166")].severity == "warning"  # not expected the day before
    summary = got[aid("summary", "deadline")]
    assert summary.message_en.startswith("2 of 3 units have not reported")
    assert summary.details["missing"] == ["165", "166"]

    day.clock.set(at(15, 20))
    day.submit("165", at(15, 20))
    got = day.wait_for({aid("late", "165")}, timeout=90)
    assert got[aid("late", "165")].raised_at == at(15, 20)

    # One of the two restarts: state comes back from the changelog and no missing
    # alert goes out again.
    assert day.stack.stop_process("worker2") == 0
    day.clock.set(at(16))
    time.sleep(5)
    day.stack.procs["worker2"] = day.stack.procs.pop("worker")
    day.start_worker()
    day.submit("166", at(16))
    # The first report on a fresh partition, right after a rebalance: Faust used to
    # drop it and never read it again (streams/compat/seek_committed.py); the stall
    # watchdog's restarts did not always bring it back.
    got = day.wait_for({aid("late", "166"), aid("summary", "complete")}, timeout=90)
    assert "2 late" in got[aid("summary", "complete")].message_en
    time.sleep(4)  # a few more looks by both workers
    day.read(2)
    counts = Counter(a.alert_id for a in day.alerts)
    assert counts == Counter(
        {
            aid("reminder", "165"): 1,
            aid("reminder", "166"): 1,
            aid("missing", "165"): 1,
            aid("missing", "166"): 1,
            aid("summary", "deadline"): 1,
            aid("late", "165"): 1,
            aid("late", "166"): 1,
            aid("summary", "complete"): 1,
        }
    ), counts
    # On time by itself, not thanks to the stall watchdog (which logs where it was stuck).
    assert day.stack.worker_restarts() == 0, day.stack.stalls()


def test_a_report_still_queued_at_the_deadline_is_not_called_missing(day: Watched) -> None:
    """164 reports at 14:59:59 behind a queue the worker needs seconds to work through
    (junk on its partition, each set aside as a dead letter); the clock reaches 15:00
    at once. The deadline waits for the queue: 165 and 166 are missing, 164 is not."""
    day.clock.set(at(14, 59))
    time.sleep(8)  # the worker joins and sends the 14:00 reminders
    producer = KafkaProducer(bootstrap_servers=day.stack.broker.bootstrap, linger_ms=5)
    for i in range(QUEUED):  # keyed like 164's report: the same partition, before it
        producer.send(topics.SUBMITTED, key=b"164", value=b"not a report %d" % i)
    producer.flush()
    producer.close()
    day.submit("164", at(14, 59, 59))
    day.clock.set(at(15))
    got = day.wait_for({aid("missing", "165"), aid("missing", "166")}, timeout=180)
    summary = day.wait_for({aid("summary", "deadline")}, timeout=60)[aid("summary", "deadline")]
    assert summary.details["missing"] == ["165", "166"]
    assert aid("missing", "164") not in got
    day.read(2)
    assert aid("missing", "164") not in {a.alert_id for a in day.alerts}


def test_reports_sent_together_alert_once_per_alert_and_mark_each_in_its_partition(
    day: Watched,
) -> None:
    """A late report and its late correction sent together raise one ``late`` alert, and
    each alert's "sent" mark is written to the changelog partition of the report that
    raised it (the partition its unit's next worker restores). This guards any batching
    of decisions: a batch must not send an alert twice nor file a mark under another
    event (README, "Worker batching")."""
    day.clock.set(at(15, 20))
    day.submit("164", at(15, 20), ("165", 2), ("165", 3), ("166", -1), ("164", 4))
    late, rejected = {aid("late", "164"), aid("late", "165")}, {aid("rejected", "166")}
    day.wait_for(late | rejected, timeout=90)
    time.sleep(3)
    day.read(2)
    counts = Counter(a.alert_id for a in day.alerts if a.kind in ("late", "rejected"))
    assert counts == Counter(dict.fromkeys(late | rejected, 1)), counts

    marks = KafkaConsumer(
        ALERTS_SENT_CHANGELOG,
        bootstrap_servers=day.stack.broker.bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=3000,
    )
    partition_of = {json.loads(r.key): r.partition for r in marks}
    marks.close()
    unit_of = {a.alert_id: a.unit_id for a in day.alerts}
    for alert_id in late | rejected:
        assert partition_of[alert_id] == partition_for(unit_of[alert_id], PARTITIONS), alert_id


def test_alerts_the_warehouse_holds_are_not_raised_again_on_a_fresh_broker(
    watched: Watched, tmp_path: Path
) -> None:
    """`baocao up` restores the marks of sent alerts with the ledger (baocao/reseed.py)."""
    raised = at(15, 0, 10)
    stored = [
        Alert(
            alert_id=aid("missing", "165"),
            kind="missing",
            severity="warning",
            dataset=DS,
            unit_id="165",
            report_date=DAY,
            raised_at=raised,
            message_vi="Chưa báo cáo",
            message_en="Not reported",
        ),
        Alert(
            alert_id=aid("summary", "deadline"),
            kind="summary",
            severity="info",
            dataset=DS,
            unit_id="*",
            report_date=DAY,
            raised_at=raised,
            message_vi="Tổng hợp",
            message_en="Summary",
        ),
    ]
    # Through the real warehouse: the sink's rows, then the history the service serves.
    with Warehouse.connect(Settings(chdb_path=tmp_path / "warehouse")) as wh:
        wh.ensure_schema()
        wh.insert("alerts", [rows.alert_row(a) for a in stored], rows.ALERTS_COLUMNS)
        history = alert_history(wh)
    assert {r["alert_id"] for r in history} == {a.alert_id for a in stored}
    marks = alerts_sent_records(history, PARTITIONS)

    watched.clock.set(at(15, 0, 30))
    watched.start(
        lambda bootstrap: write_changelog(bootstrap, ALERTS_SENT_CHANGELOG, marks, PARTITIONS)
    )
    # 164 and 166 are due now; 165's missing alert and the deadline summary went out
    # before the broker was replaced and must not go out again.
    watched.wait_for({aid("missing", "164"), aid("missing", "166")}, timeout=90)
    time.sleep(6)  # a few more looks
    watched.read(2)
    assert Counter(a.alert_id for a in watched.alerts) == Counter(
        {aid("missing", "164"): 1, aid("missing", "166"): 1}
    )
