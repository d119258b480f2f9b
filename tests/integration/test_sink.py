"""The warehouse sink end to end: real Tansu broker, real chDB, no mocks.

chDB allows one data directory per process at a time (clients on the same directory
may coexist), so this module shares one directory and gives every test its own
database, dropped afterwards.

This module is larger than most on purpose: one test per failure the quality bars
name (corrections, crash before commit, warehouse outage, scale-out, bad input,
rollups), sharing one scenario builder so expectations are computed independently
of the sink and its SQL.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import pytest
from kafka import KafkaConsumer, KafkaProducer

from baocao.broker import EmbeddedBroker, create_topics
from contract.events import (
    Alert,
    DeadLetter,
    LevelAssessed,
    ReportAccepted,
    ReportRejected,
    ReportSubmitted,
    SourceRef,
    Violation,
)
from contract.registry import Registry, Unit, UnitKind
from contract.settings import Settings
from contract.topics import TopicSpec
from sinks.clickhouse import ClickHouseSink, SinkTopics
from sinks.consumer import SinkRunner
from warehouse.client import Warehouse
from warehouse.errors import WarehouseUnavailable

pytestmark = pytest.mark.integration

T = TypeVar("T")
ICT = timezone(timedelta(hours=7))
DAY0 = date(2021, 8, 1)
METRICS = [
    "cases_new",
    "cases_community",
    "deaths",
    "f1_new",
    "tests_pcr",
    "tests_pcr_positive",
    "vaccine_dose1.age_18_49",
    "vaccine_dose2.age_18_49",
    "vaccine_dose2.age_65_plus",
]


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def chdb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("warehouse")


@pytest.fixture
def settings(broker: EmbeddedBroker, chdb_dir: Path, unique: str) -> Settings:
    return Settings(
        broker=broker.bootstrap,
        warehouse="chdb",
        chdb_path=chdb_dir,
        database=f"t_{unique}",
        sink_batch_rows=2_000,
        sink_flush_seconds=0.2,
    )


@pytest.fixture
def warehouse(settings: Settings) -> Iterator[Warehouse]:
    with Warehouse.connect(settings) as wh:
        wh.ensure_schema()
        yield wh
        wh.command(f"DROP DATABASE IF EXISTS `{settings.database}`")


@pytest.fixture
def topics(broker: EmbeddedBroker, unique: str) -> SinkTopics:
    names = SinkTopics(
        f"accepted-{unique}",
        f"rejected-{unique}",
        f"alerts-{unique}",
        f"dead-{unique}",
        f"levels-{unique}",
        f"approvals-{unique}",
    )
    create_topics(broker.bootstrap, [TopicSpec(name, 4) for name in names])
    return names


def produce(bootstrap: str, messages: list[tuple[str, str | None, bytes, int | None]]) -> None:
    """Send (topic, key, value, partition) in order and wait until the broker has them."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, batch_size=256 * 1024)
    for topic, key, value, partition in messages:
        producer.send(topic, value=value, key=key.encode() if key else None, partition=partition)
    producer.flush()
    producer.close()


@contextmanager
def running(runner: SinkRunner) -> Iterator[list[BaseException]]:
    """Run the sink in a thread; yield the list that collects what killed it, if anything."""
    stop, died = threading.Event(), []

    def target() -> None:
        try:
            runner.run(stop)
        except BaseException as exc:
            died.append(exc)

    thread = threading.Thread(target=target, name="sink", daemon=True)
    thread.start()
    try:
        yield died
    finally:
        stop.set()
        thread.join(30)
        assert not thread.is_alive(), "the sink did not stop"


def eventually(probe: Callable[[], T], expected: T, timeout: float = 60.0) -> T:
    """Return the probe's value once it equals ``expected`` or when ``timeout`` has passed."""
    deadline = time.monotonic() + timeout
    while True:
        got = probe()
        if got == expected or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def utc(moment: datetime) -> datetime:
    """Compare instants from chDB (naive UTC or aware) with the events' aware ones."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def accepted(
    unit: str,
    day: date,
    revision: int,
    values: dict[str, int],
    timeliness: str,
    dataset: str = "district-daily",
) -> ReportAccepted:
    first = datetime.combine(day, datetime.min.time(), ICT) + timedelta(hours=9)
    submitted = first + timedelta(hours=revision - 1)
    return ReportAccepted.model_validate(
        {
            "report_id": uuid.uuid4(),
            "dataset": dataset,
            "unit_id": unit,
            "report_date": day,
            "submitted_at": submitted,
            "submitted_by": f"cán bộ {unit}",
            "values": values,
            "reason": "" if revision == 1 else "điều chỉnh",
            "revision": revision,
            "timeliness": timeliness,
            "first_submitted_at": first,
            "deadline": datetime.combine(day, datetime.min.time(), ICT) + timedelta(hours=15),
            "accepted_at": submitted + timedelta(seconds=1),
        }
    )


ValueKey = tuple[str, str, date, str, str]


@dataclass
class Scenario:
    """Accepted events with corrections, and what the warehouse must show for them."""

    messages: list[tuple[str, bytes]] = field(default_factory=list)  # (key, value)
    latest: dict[ValueKey, int] = field(default_factory=dict)
    revisions: dict[tuple[str, date], tuple[int, int, str]] = field(default_factory=dict)
    rows: int = 0  # report_values rows of distinct events


def build_scenario(seed: int, units: int, days: int, duplicates: float) -> Scenario:
    """Revision 2 for some units, some corrections omit a metric, a few withdraw everything."""
    rng, out = random.Random(seed), Scenario()
    for u in range(units):
        unit = f"U{u:04d}"
        for d in range(days):
            day = DAY0 + timedelta(days=d)
            n_revisions = rng.choices([1, 2, 3], [0.65, 0.3, 0.05])[0]
            timeliness = rng.choice(["on_time", "late"])
            values = {k: rng.randint(0, 500) for k in rng.sample(METRICS, rng.randint(3, 9))}
            for revision in range(1, n_revisions + 1):
                if revision > 1:
                    values = {k: rng.randint(0, 500) for k in values}
                    if rng.random() < 0.5:
                        del values[rng.choice(sorted(values))]
                if revision == 3 and rng.random() < 0.5:
                    values = {}  # the unit withdrew every number
                event = accepted(unit, day, revision, values, timeliness)
                out.messages.append((unit, event.to_json()))
                out.rows += max(1, len(values))
            for key, value in values.items():
                metric, _, option = key.partition(".")
                out.latest["district-daily", unit, day, metric, option] = value
            out.revisions[unit, day] = (n_revisions, n_revisions, timeliness)
    resent = rng.sample(out.messages, int(len(out.messages) * duplicates))
    out.messages += resent  # the same events again, later in the same partitions
    return out


def latest_values(wh: Warehouse) -> dict[ValueKey, int]:
    rows = wh.query_rows(
        "SELECT dataset, unit_id, report_date, metric, option, value FROM report_values_latest"
    )
    return {(ds, unit, day, metric, option): value for ds, unit, day, metric, option, value in rows}


def rollup_values(wh: Warehouse) -> dict[ValueKey, int]:
    """The daily rollup's latest values, keyed as ``latest_values`` keys them."""
    rows = wh.query_rows("SELECT dataset, unit_id, report_date, counts FROM daily_values FINAL")
    out: dict[ValueKey, int] = {}
    for ds, unit, day, counts in rows:
        for key, value in counts.items():
            metric, _, option = key.partition(".")
            out[ds, unit, day, metric, option] = value
    return out


def totals(values: dict[ValueKey, int]) -> dict[tuple[str, str], int]:
    out: Counter[tuple[str, str]] = Counter()
    for (_, _, _, metric, option), value in values.items():
        out[metric, option] += value
    return dict(out)


def warehouse_totals(wh: Warehouse) -> dict[tuple[str, str], int]:
    rows = wh.query_rows(
        "SELECT metric, option, sum(value) FROM report_values_latest GROUP BY metric, option"
    )
    return {(metric, option): int(total) for metric, option, total in rows}


def latest_reports(wh: Warehouse) -> dict[tuple[str, date], tuple[int, int, str]]:
    rows = wh.query_rows(
        "SELECT unit_id, report_date, revision, revisions, timeliness FROM reports_latest"
    )
    return {(unit, day): (rev, int(n), tl) for unit, day, rev, n, tl in rows}


def send_scenario(broker: EmbeddedBroker, topic: str, scenario: Scenario) -> None:
    produce(broker.bootstrap, [(topic, key, value, None) for key, value in scenario.messages])


# ---------------------------------------------------------------- (a) corrections and duplicates


def test_latest_revision_totals_match_what_was_accepted(
    broker: EmbeddedBroker,
    settings: Settings,
    warehouse: Warehouse,
    topics: SinkTopics,
    unique: str,
) -> None:
    scenario = build_scenario(seed=1, units=400, days=4, duplicates=0.1)
    assert len(scenario.messages) >= 2_000
    send_scenario(broker, topics.accepted, scenario)
    runner = SinkRunner(settings, warehouse, topics, group=f"sink-{unique}")
    expected_totals = totals(scenario.latest)
    with running(runner) as died:
        got = eventually(lambda: warehouse_totals(warehouse), expected_totals)
    assert not died
    assert got == expected_totals
    assert latest_values(warehouse) == scenario.latest
    assert rollup_values(warehouse) == scenario.latest
    assert latest_reports(warehouse) == scenario.revisions
    assert runner.sink.stats.dead_letters == 0
    assert runner.sink.stats.messages == len(scenario.messages)


# ------------------------------------------------------- (b) crash between insert and commit


class SimulatedCrash(BaseException):
    """The process dies: not an Exception, so nothing in the sink may swallow it."""


class CrashingWarehouse(Warehouse):
    """Dies right after the warehouse confirmed the n-th insert into `reports`."""

    crash_at = 3
    calls = 0
    reports_rows = 0  # accepted messages whose rows are in the warehouse

    def insert(
        self, table: str, rows: Any, column_names: Any, dedup_token: Any = None, **kw: Any
    ) -> int:
        written = super().insert(table, rows, column_names, dedup_token, **kw)
        if table == "reports":
            self.calls += 1
            self.reports_rows += written
            if self.calls == self.crash_at:
                raise SimulatedCrash
        return written


def test_crash_after_insert_before_commit_changes_nothing(
    broker: EmbeddedBroker,
    settings: Settings,
    warehouse: Warehouse,
    topics: SinkTopics,
    unique: str,
) -> None:
    scenario = build_scenario(seed=2, units=250, days=4, duplicates=0.05)
    send_scenario(broker, topics.accepted, scenario)
    group = f"sink-{unique}"
    with CrashingWarehouse.connect(settings) as crashing:
        first = SinkRunner(settings, crashing, topics, group=group)
        with running(first) as died:
            eventually(lambda: len(died), 1)
    assert len(died) == 1 and isinstance(died[0], SimulatedCrash)
    committed = sum(first.committed.values())
    assert crashing.reports_rows > committed, "rows were committed before they were written"

    second = SinkRunner(settings, warehouse, topics, group=group)
    rereads = len(scenario.messages) - committed  # from the committed offsets on
    with running(second) as died:
        eventually(lambda: (second.sink.stats.messages_written, second.sink.pending), (rereads, 0))
        got = eventually(lambda: latest_values(warehouse), scenario.latest)
    assert not died
    assert second.sink.stats.messages_written == rereads
    assert got == scenario.latest
    assert rollup_values(warehouse) == scenario.latest  # a rewritten batch changes nothing
    assert latest_reports(warehouse) == scenario.revisions


def test_same_batch_flushed_twice_counts_once(warehouse: Warehouse) -> None:
    """Two sink instances write the same offsets: the second write adds nothing.

    Undecodable messages are handed to the dead-letter topic (not written), and a dead
    letter read back from that topic twice is written once, by the batch's token.
    """
    for table in ("report_values", "reports", "dead_letters"):
        warehouse.command(f"SYSTEM STOP MERGES {table}")
    names = SinkTopics("acc", "rej", "alerts", "dead")
    events = [
        accepted(f"U{i:04d}", DAY0, 1, {"cases_new": i, "deaths": 1}, "on_time") for i in range(30)
    ]
    messages = [e.to_json() for e in events] + [b"not json"]
    letter = DeadLetter.of(
        SourceRef(topic="acc", partition=0, offset=30),
        "sink",
        "not json",
        None,
        b"not json",
        datetime.now(UTC),
    )
    for _ in range(2):  # the second instance re-reads what the first wrote, uncommitted
        sink = ClickHouseSink(warehouse, batch_rows=10_000, topics=names)
        for offset, value in enumerate(messages):
            sink.add(names.accepted, 0, offset, value)
        sink.add(names.dead_letters, 0, 0, letter.to_json())
        assert [d.value for d in sink.outbound] == [b"not json"]
        assert sink.flush() == {(names.accepted, 0): len(messages), (names.dead_letters, 0): 1}
    counts = warehouse.query_rows(
        "SELECT (SELECT count() FROM report_values), (SELECT count() FROM reports),"
        " (SELECT count() FROM dead_letters)"
    )[0]
    assert counts == (60, 30, 1)


# ---------------------------------------------------------------- (c) warehouse unavailable


class FlakyWarehouse(Warehouse):
    """Refuses every insert into `reports` for ``outage`` seconds from the second one on."""

    outage = 60.0  # as the issue asks; far longer than max_poll_interval: must stay in group
    refused = 0
    reports_inserts = 0
    until: float | None = None

    def insert(
        self, table: str, rows: Any, column_names: Any, dedup_token: Any = None, **kw: Any
    ) -> int:
        if table == "reports":
            self.reports_inserts += 1
            if self.reports_inserts == 2:
                self.until = time.monotonic() + self.outage
            if self.until is not None and time.monotonic() < self.until:
                self.refused += 1
                raise WarehouseUnavailable("injected outage", retry_after=0.05)
        return super().insert(table, rows, column_names, dedup_token, **kw)


def test_warehouse_outage_loses_and_duplicates_nothing(
    broker: EmbeddedBroker,
    settings: Settings,
    warehouse: Warehouse,
    topics: SinkTopics,
    unique: str,
) -> None:
    scenario = build_scenario(seed=3, units=200, days=3, duplicates=0.0)
    send_scenario(broker, topics.accepted, scenario)
    # Background merges would collapse duplicates and hide a double write: stop them.
    warehouse.command("SYSTEM STOP MERGES report_values")
    with FlakyWarehouse.connect(settings) as flaky:
        runner = SinkRunner(settings, flaky, topics, group=f"sink-{unique}")
        with running(runner) as died:
            idle = (len(scenario.messages), 0)
            eventually(
                lambda: (runner.sink.stats.messages_written, runner.sink.pending), idle, timeout=180
            )
    assert not died
    assert flaky.refused >= 5 and runner.outages == 1 and not runner.paused
    # Doubling backoff, capped: a few dozen attempts in a minute, not a busy loop.
    assert flaky.refused <= 40, flaky.refused
    assert runner.rebalances == 1, "the paused consumer fell out of its group"
    assert latest_values(warehouse) == scenario.latest
    assert rollup_values(warehouse) == scenario.latest
    assert latest_reports(warehouse) == scenario.revisions
    # report_values of the refused batches were written before `reports` failed, and
    # written again on retry with the same token: not one row may be there twice.
    assert warehouse.query_rows("SELECT count() FROM report_values")[0][0] == scenario.rows


class CutWarehouse(Warehouse):
    """Accepts ``inserts_left`` more inserts, then refuses the rest (None: no limit)."""

    inserts_left: int | None = None

    def insert(
        self, table: str, rows: Any, column_names: Any, dedup_token: Any = None, **kw: Any
    ) -> int:
        if self.inserts_left is not None:
            if self.inserts_left == 0:
                raise WarehouseUnavailable("injected cut", retry_after=0.05)
            self.inserts_left -= 1
        return super().insert(table, rows, column_names, dedup_token, **kw)


def test_a_batch_cut_between_its_inserts_shows_the_previous_revision_whole(
    settings: Settings, warehouse: Warehouse
) -> None:
    """report_values_latest picks the latest report in `reports`, so the sink must write
    a batch's values first: cut after that insert, readers still see revision 1 whole."""
    names = SinkTopics("acc", "rej", "alerts", "dead")
    first = accepted("U0001", DAY0, 1, {"cases_new": 5, "tests_pcr": 10}, "on_time")
    correction = accepted("U0001", DAY0, 2, {"cases_new": 7}, "on_time")
    key = ("district-daily", "U0001", DAY0)
    with CutWarehouse.connect(settings) as cut:
        sink = ClickHouseSink(cut, batch_rows=10_000, topics=names)
        sink.add(names.accepted, 0, 0, first.to_json())
        sink.flush()
        cut.inserts_left = 1
        sink.add(names.accepted, 0, 1, correction.to_json())
        with pytest.raises(WarehouseUnavailable):
            sink.flush()
        assert latest_values(warehouse) == {(*key, "cases_new", ""): 5, (*key, "tests_pcr", ""): 10}
        cut.inserts_left = None
        assert sink.flush() == {(names.accepted, 0): 2}
    assert latest_values(warehouse) == {(*key, "cases_new", ""): 7}


def test_a_second_sink_joining_takes_over_without_loss(
    broker: EmbeddedBroker,
    settings: Settings,
    warehouse: Warehouse,
    topics: SinkTopics,
    unique: str,
) -> None:
    """On revoke the first sink writes and commits what it holds (its flush timer is far off)."""
    scenario = build_scenario(seed=4, units=100, days=2, duplicates=0.0)
    send_scenario(broker, topics.accepted, scenario)
    lazy = settings.model_copy(update={"sink_flush_seconds": 120.0, "sink_batch_rows": 10**9})
    group = f"sink-{unique}"
    first, second = (SinkRunner(lazy, warehouse, topics, group=group) for _ in range(2))
    with running(first) as died_first:
        eventually(lambda: first.sink.stats.messages, len(scenario.messages))
        assert warehouse.query_rows("SELECT count() FROM reports")[0][0] == 0
        with running(second) as died_second:
            got = eventually(lambda: latest_values(warehouse), scenario.latest, timeout=60)
            committed = eventually(lambda: sum(first.committed.values()), len(scenario.messages))
            both_assigned = eventually(lambda: (first.rebalances, second.rebalances), (2, 1))
    assert not died_first and not died_second
    assert got == scenario.latest
    assert committed == len(scenario.messages)
    assert both_assigned == (2, 1)
    assert second.sink.stats.messages == 0  # nothing was left to redeliver


# ---------------------------------------------------------------- (d) bad messages


def test_garbage_becomes_a_dead_letter_and_the_rest_arrives(
    broker: EmbeddedBroker,
    settings: Settings,
    warehouse: Warehouse,
    topics: SinkTopics,
    unique: str,
) -> None:
    good = [accepted(f"U{i:04d}", DAY0, 1, {"cases_new": i}, "on_time") for i in range(40)]
    wrong_schema = ReportSubmitted.model_validate(
        {
            k: v
            for k, v in good[0].model_dump(by_alias=True).items()
            if k in ReportSubmitted.model_fields or k == "schema"
        }
        | {"schema": "baocao.report/v1"}
    )
    messages: list[tuple[str, str | None, bytes, int | None]] = [
        (topics.accepted, e.unit_id, e.to_json(), 0) for e in good[:20]
    ]
    messages += [
        (topics.accepted, None, b"\xff\xfe not json", 0),
        (topics.accepted, None, wrong_schema.to_json(), 0),
    ]
    messages += [(topics.accepted, e.unit_id, e.to_json(), 0) for e in good[20:]]
    errors = [
        Violation(
            rule_id="not_json", severity="error", message_vi="Không đọc được", message_en="Not JSON"
        )
    ]
    garbled = ReportRejected(
        rejection_id=uuid.uuid4(),
        rejected_at=datetime.now(UTC),
        raw="\x00{oops",
        errors=errors,
        source=SourceRef(topic="reports.submitted", partition=3, offset=99),
    )
    odd_date = ReportRejected(
        rejection_id=uuid.uuid4(),
        rejected_at=datetime.now(UTC),
        report_id="r-1",
        dataset="district-daily",
        unit_id="173",
        report_date="2021-13-45",
        submission={"values": {"x": -1}},
        errors=errors,
    )
    alert = Alert(
        alert_id=f"missing|173|{DAY0}",
        kind="missing",
        severity="warning",
        dataset="district-daily",
        unit_id="173",
        report_date=DAY0,
        raised_at=datetime(2021, 8, 1, 15, 0, tzinfo=ICT),
        message_vi="Huyện Phú Bình chưa báo cáo",
        message_en="Phú Bình has not reported",
        details={"expected": 1},
    )
    messages += [
        (topics.rejected, "x", garbled.to_json(), None),
        (topics.rejected, "173", odd_date.to_json(), None),
        (topics.alerts, "173", alert.to_json(), None),
        (topics.alerts, "173", b"not an alert", None),  # the notifier skips it; we keep it
    ]
    produce(broker.bootstrap, messages)

    def counts() -> tuple[int, ...]:
        return tuple(
            warehouse.query_rows(
                "SELECT (SELECT count() FROM report_values_latest),"
                " (SELECT count() FROM dead_letters),"
                " (SELECT count() FROM rejections), (SELECT count() FROM alerts)"
            )[0]
        )

    runner = SinkRunner(settings, warehouse, topics, group=f"sink-{unique}")
    with running(runner) as died:
        got = eventually(counts, (40, 3, 2, 1))
    assert not died
    assert got == (40, 3, 2, 1)
    assert runner.sink.stats.dead_letters == 3
    # They went through the dead-letter topic, whole and with the reason.
    consumer = KafkaConsumer(
        topics.dead_letters, bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest"
    )
    polled = consumer.poll(5000)
    consumer.close()
    on_topic = [DeadLetter.model_validate_json(m.value) for ms in polled.values() for m in ms]
    assert sorted((d.source.topic, d.source.offset, d.stage, d.value) for d in on_topic) == [
        (topics.accepted, 20, "sink", b"\xff\xfe not json"),
        (topics.accepted, 21, "sink", wrong_schema.to_json()),
        (topics.alerts, 1, "sink", b"not an alert"),
    ]
    letters = warehouse.query_rows(
        "SELECT source_topic, source_offset, raw, error FROM dead_letters"
        " ORDER BY source_topic, source_offset"
    )
    assert [row[:3] for row in letters] == [
        (topics.accepted, 20, "\ufffd\ufffd not json"),
        (topics.accepted, 21, wrong_schema.to_json().decode()),
        (topics.alerts, 1, "not an alert"),
    ]
    assert all(row[3] for row in letters), "a dead letter must say what was wrong"
    rejections = warehouse.query_rows(
        "SELECT rejection_id, report_id, dataset, unit_id, report_date, rule_ids, raw,"
        " submission, source_topic, source_partition, source_offset FROM rejections"
        " ORDER BY report_id"
    )
    assert rejections == [
        (
            garbled.rejection_id,
            "",
            "",
            "",
            None,
            ["not_json"],
            "\x00{oops",
            "",
            "reports.submitted",
            3,
            99,
        ),
        (
            odd_date.rejection_id,
            "r-1",
            "district-daily",
            "173",
            None,
            ["not_json"],
            "",
            '{"values":{"x":-1}}',
            "",
            None,
            None,
        ),
    ]
    [stored] = warehouse.query_rows(
        "SELECT alert_id, kind, severity, unit_id, report_date, raised_at, message_vi, details"
        " FROM alerts"
    )
    assert stored[:5] == (alert.alert_id, "missing", "warning", "173", DAY0)
    assert utc(stored[5]) == alert.raised_at
    assert stored[6:] == ("Huyện Phú Bình chưa báo cáo", '{"expected":1}')


# ---------------------------------------------------------------- (e) district and province rollups


def unit(
    unit_id: str,
    kind: UnitKind,
    province: str,
    parent: str | None = None,
    district: str | None = None,
) -> Unit:
    return Unit(
        unit_id=unit_id,
        name=f"Đơn vị {unit_id}",
        kind=kind,
        province_id=province,
        parent_id=parent,
        district_id=district,
    )


def registry(moved_commune_to: str) -> Registry:
    return Registry(
        [
            unit("19", UnitKind.PROVINCE, "19"),
            unit("164", UnitKind.DISTRICT, "19", parent="19"),
            unit("173", UnitKind.DISTRICT, "19", parent="19"),
            unit("05800", UnitKind.COMMUNE, "19", parent="173", district="173"),
            unit(
                "05803", UnitKind.COMMUNE, "19", parent=moved_commune_to, district=moved_commune_to
            ),
            unit("CP-19-01", UnitKind.CHECKPOINT, "19", parent="164", district="164"),
            unit("20", UnitKind.PROVINCE, "20"),
            unit("181", UnitKind.DISTRICT, "20", parent="20"),
        ]
    )


def test_district_and_province_rollups_equal_hand_sums(
    broker: EmbeddedBroker,
    settings: Settings,
    warehouse: Warehouse,
    topics: SinkTopics,
    unique: str,
) -> None:
    dd, cd = "district-daily", "checkpoint-daily"
    events = [
        accepted("164", DAY0, 1, {"cases_new": 10, "deaths": 1}, "on_time"),
        accepted("173", DAY0, 1, {"cases_new": 7, "deaths": 2, "f1_new": 30}, "on_time"),
        accepted("173", DAY0, 2, {"cases_new": 8, "f1_new": 31}, "on_time"),  # deaths withdrawn
        accepted("05800", DAY0, 1, {"cases_new": 3}, "late"),
        accepted("05803", DAY0, 1, {"cases_new": 4, "vaccine_dose1.age_18_49": 100}, "on_time"),
        accepted("181", DAY0, 1, {"cases_new": 5}, "on_time"),
        accepted("CP-19-01", DAY0, 1, {"people_screened": 250}, "on_time", dataset=cd),
        accepted("ZZZ", DAY0, 1, {"cases_new": 1000}, "on_time"),  # not in the registry
        accepted("164", DAY0 + timedelta(days=1), 1, {"cases_new": 6}, "on_time"),
    ]
    assert warehouse.load_units(registry(moved_commune_to="173")) == 8
    produce(broker.bootstrap, [(topics.accepted, e.unit_id, e.to_json(), None) for e in events])

    def districts() -> dict[tuple[str, date, str, str, str], tuple[int, int]]:
        rows = warehouse.query_rows(
            "SELECT dataset, report_date, district_id, metric, option, value, units_reporting"
            " FROM daily_district_totals"
        )
        return {tuple(r[:5]): (int(r[5]), int(r[6])) for r in rows}  # type: ignore[misc]

    d1 = DAY0 + timedelta(days=1)
    expected_districts = {
        (dd, DAY0, "164", "cases_new", ""): (10, 1),
        (dd, DAY0, "164", "deaths", ""): (1, 1),
        (dd, DAY0, "173", "cases_new", ""): (8 + 3 + 4, 3),
        (dd, DAY0, "173", "f1_new", ""): (31, 1),
        (dd, DAY0, "173", "vaccine_dose1", "age_18_49"): (100, 1),
        (dd, DAY0, "181", "cases_new", ""): (5, 1),
        (cd, DAY0, "164", "people_screened", ""): (250, 1),
        (dd, d1, "164", "cases_new", ""): (6, 1),
    }
    runner = SinkRunner(settings, warehouse, topics, group=f"sink-{unique}")
    with running(runner) as died:
        got = eventually(districts, expected_districts)
    assert not died
    assert got == expected_districts

    provinces = {
        tuple(r[:5]): (int(r[5]), int(r[6]))
        for r in warehouse.query_rows(
            "SELECT dataset, report_date, province_id, metric, option, value, units_reporting"
            " FROM daily_province_totals"
        )
    }
    assert provinces == {
        (dd, DAY0, "19", "cases_new", ""): (10 + 8 + 3 + 4, 4),
        (dd, DAY0, "19", "deaths", ""): (1, 1),
        (dd, DAY0, "19", "f1_new", ""): (31, 1),
        (dd, DAY0, "19", "vaccine_dose1", "age_18_49"): (100, 1),
        (dd, DAY0, "20", "cases_new", ""): (5, 1),
        (cd, DAY0, "19", "people_screened", ""): (250, 1),
        (dd, d1, "19", "cases_new", ""): (6, 1),
    }

    # Reloading the registry replaces it: commune 05803 now belongs to district 164.
    warehouse.load_units(registry(moved_commune_to="164"))
    moved = districts()
    assert moved[dd, DAY0, "164", "cases_new", ""] == (10 + 4, 2)
    assert moved[dd, DAY0, "173", "cases_new", ""] == (8 + 3, 2)
    assert moved[dd, DAY0, "164", "vaccine_dose1", "age_18_49"] == (100, 1)
    assert warehouse.query_rows("SELECT count() FROM units_current")[0][0] == 8

    warehouse.ensure_schema()  # idempotent: a restart re-runs it over existing data
    assert districts() == moved


# ---------------------------------------------------------------- (f) signals and levels


def anomaly(alert_id: str, state: str, minute: int, **details: Any) -> Alert:
    sid = "anomaly:quiet_days:173:cases_community:2021-07-27"
    return Alert(
        alert_id=alert_id.format(sid=sid),
        kind="anomaly",
        severity="warning",
        dataset="district-daily",
        unit_id="173",
        report_date=date(2021, 7, 27),
        raised_at=datetime(2021, 7, 27, 9, minute, tzinfo=ICT),
        message_vi=f"{state} vi",
        message_en=f"{state} en",
        details={
            "signal_id": sid,
            "rule": "quiet_days",
            "metric": "cases_community",
            "state": state,
            "unit_kind": "district",
        }
        | details,
    )


def assessed(level: int | None, minute: int) -> LevelAssessed:
    return LevelAssessed(
        unit_id="173",
        unit_kind="district",
        level_date=date(2021, 9, 20),
        period="day",
        profile="qd4800",
        level=level,
        criteria={"cases_per_100k_week": 28.4},
        why_vi="28,4 ca/100.000/tuần",
        why_en="28.4 cases/100,000/week",
        assessed_at=datetime(2021, 9, 20, 16, minute, tzinfo=ICT),
    )


def test_signals_and_levels_arrive_once_with_their_newest_state(
    broker: EmbeddedBroker,
    settings: Settings,
    warehouse: Warehouse,
    topics: SinkTopics,
    unique: str,
) -> None:
    """Raised, redelivered, withdrawn; a level re-assessed: the views show the last, once."""
    raised, withdrawn = anomaly("{sid}", "active", 0), anomaly("{sid}:withdrawn:1", "withdrawn", 5)
    no_rule = anomaly("{sid}:raised:2", "active", 9, rule="")
    alerts = [raised, raised, withdrawn, no_rule]  # the raise redelivered; one malformed
    levels = [assessed(2, 0), assessed(3, 30), assessed(3, 30)]  # re-assessed, redelivered
    produce(
        broker.bootstrap,
        [(topics.alerts, "173", a.to_json(), 0) for a in alerts]
        + [(topics.levels, "173", v.to_json(), 0) for v in levels],
    )
    for table in ("signals", "levels"):  # a double write must not merge away unnoticed
        warehouse.command(f"SYSTEM STOP MERGES {table}")

    def seen() -> tuple[Any, ...]:
        return tuple(
            warehouse.query_rows(
                "SELECT (SELECT uniqExact(alert_id) FROM alerts),"
                " (SELECT count() FROM signals_current), (SELECT count() FROM levels_latest),"
                " (SELECT uniqExact(source_topic, source_offset) FROM dead_letters)"
            )[0]
        )

    # A second group reads every message again, as after offsets lost before a commit.
    done = len(alerts) + len(levels)  # (and the dead letter, when it comes back)
    for group in ("first", "again"):
        runner = SinkRunner(settings, warehouse, topics, group=f"sink-{unique}-{group}")
        with running(runner) as died:
            eventually(lambda r=runner: r.sink.stats.messages_written >= done, True)
            got = eventually(seen, (2, 1, 1, 1))
        assert not died
        assert got == (2, 1, 1, 1)
    (signal,) = warehouse.query_rows(
        "SELECT state, alert_id, message_en, signal_id FROM signals_current WHERE unit_id = '173'"
    )
    assert signal == ("withdrawn", withdrawn.alert_id, "withdrawn en", raised.alert_id)
    (level,) = warehouse.query_rows("SELECT level, criteria, assessed_at FROM levels_latest")
    assert level[:2] == (3, '{"cases_per_100k_week":28.4}')
    assert utc(level[2]) == levels[1].assessed_at
