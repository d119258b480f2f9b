"""Signals and levels end to end: the Thái Nguyên replay through Tansu, a worker and chDB.

27/07/2021: six community cases in Tân Khánh, Phú Bình after 38 days without one. The
replay starts on the last community case before the quiet days (18/06), so the stream
holds the whole run. Alerts are read from the ``alerts`` topic itself, so a repeat sent
by the worker would be counted, not hidden by the warehouse's deduplication.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from kafka import KafkaConsumer

from contract import topics
from contract.datasets import Catalog
from contract.events import Alert, LevelAssessed, ReportSubmitted
from contract.registry import Registry
from producers.epidemic import EpidemicModel
from producers.kafka import ReportProducer
from producers.replay import load_scenario
from producers.simulator import Scenario, simulate
from tests.integration.stack import Stack
from tests.integration.test_scale_out import wait_for_split
from warehouse.client import Warehouse

pytestmark = pytest.mark.integration

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2021, 7, 27)
PHU_BINH, THAI_NGUYEN = "173", "19"


def replay(name: str, registry: Registry, catalog: Catalog) -> Scenario:
    scenario = load_scenario(name)
    model = EpidemicModel(registry, catalog, scenario.seed, scenario.overrides(registry))
    return simulate(registry, catalog, scenario.days(), TZ, scenario.seed, model=model)


class Topic:
    """Everything a topic carried since the test began, read on demand."""

    def __init__(self, stack: Stack, name: str) -> None:
        self.consumer = KafkaConsumer(
            name,
            bootstrap_servers=stack.broker.bootstrap,
            auto_offset_reset="earliest",
            group_id=f"t-{uuid.uuid4().hex[:8]}",
        )
        self.values: list[bytes] = []

    def read(self, seconds: float = 0.5) -> None:
        for records in self.consumer.poll(int(seconds * 1000)).values():
            self.values += [r.value for r in records]


class Replayed:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.alerts_topic = Topic(stack, topics.ALERTS)
        self.levels_topic = Topic(stack, topics.LEVELS)
        registry = Registry.load()
        self.plan = replay("thai-nguyen-2021-07-27", registry, Catalog.load())
        province = {u.unit_id for u in registry.filter(province=THAI_NGUYEN)}
        self.reports = [r for r in self.plan.reports if r.unit_id in province]

    @property
    def alerts(self) -> list[Alert]:
        self.alerts_topic.read()
        return [Alert.model_validate_json(v) for v in self.alerts_topic.values]

    def signals(self, rule: str) -> list[Alert]:
        return [a for a in self.alerts if a.kind == "anomaly" and a.details["rule"] == rule]

    def wait(self, check: str, ok: object, timeout: float = 120.0) -> None:
        import time

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if callable(ok) and ok():
                return
            self.stack.check_alive()
            time.sleep(0.5)
        raise AssertionError(f"{check} never held\n{self.stack.log_tail('worker', 80)}")

    def send(self, reports: list[ReportSubmitted]) -> None:
        with ReportProducer(self.stack.settings) as producer:
            producer.send(reports)


@pytest.fixture
def replayed(tmp_path: Path) -> Iterator[Replayed]:
    stack = Stack(tmp_path)
    stack.env["BAOCAO_LOG_LEVEL"] = "INFO"  # workers log the partitions they hold
    stack.start()
    try:
        yield Replayed(stack)
    finally:
        stack.stop()


def quiet_ids() -> set[str]:
    return {
        f"anomaly:quiet_days:{unit}:cases_community:{DAY.isoformat()}"
        for unit in (PHU_BINH, THAI_NGUYEN)
    }


def test_thai_nguyen_first_community_cases_after_38_days_alert_once_and_a_correction_withdraws(
    replayed: Replayed,
) -> None:
    replayed.send(replayed.reports)
    replayed.wait(
        "both quiet-days alerts",
        lambda: quiet_ids() <= {a.alert_id for a in replayed.signals("quiet_days")},
    )
    # Every report decided and evaluated before counting: the last day's levels are out.
    last_day = max(r.report_date for r in replayed.reports)

    def levels_done() -> bool:
        replayed.levels_topic.read()
        days = {
            LevelAssessed.model_validate_json(v).level_date for v in replayed.levels_topic.values
        }
        return last_day in days

    replayed.wait("the last day's levels", levels_done)
    quiet = replayed.signals("quiet_days")
    assert Counter(a.alert_id for a in quiet) == Counter(dict.fromkeys(quiet_ids(), 1)), quiet
    by_unit = {a.unit_id: a for a in quiet}
    district, province = by_unit[PHU_BINH], by_unit[THAI_NGUYEN]
    assert district.details["run_days"] == province.details["run_days"] == 38
    assert "Huyện Phú Bình" in district.message_vi and "38 ngày" in district.message_vi
    assert "38 days" in district.message_en and "6" in district.message_en
    assert "Tỉnh Thái Nguyên" in province.message_vi
    assert district.details["unit_kind"] == "district"
    assert province.details["unit_kind"] == "province"

    # The correction: the six cases were a data-entry error.
    invalid = replayed.plan.expected.invalid_report_ids
    first = next(
        r
        for r in replayed.reports
        if r.unit_id == PHU_BINH and r.report_date == DAY and r.report_id not in invalid
    )
    values = dict(first.values)
    values.update(cases_new=values["cases_new"] - 6, cases_community=0)
    correction = first.model_copy(
        update={
            "report_id": uuid.uuid4(),
            "values": values,
            "submitted_at": datetime(2021, 7, 28, 9, 0, tzinfo=TZ),
            "reason": "nhập nhầm / entered by mistake",
            "note": "",
        }
    )
    replayed.send([correction])
    withdrawn = {f"{sid}:withdrawn:1" for sid in quiet_ids()}
    replayed.wait("both withdrawals", lambda: withdrawn <= {a.alert_id for a in replayed.alerts})
    got = {a.alert_id: a for a in replayed.alerts}
    for aid in withdrawn:
        assert got[aid].details["state"] == "withdrawn"
        assert got[aid].message_vi.startswith("Rút cảnh báo")
    # None on the quiet days before, and nothing raised twice.
    assert not [a for a in replayed.signals("quiet_days") if a.report_date < DAY]
    counts = Counter(a.alert_id for a in replayed.alerts if a.kind in ("anomaly", "level"))
    assert max(counts.values()) == 1, counts

    # The warehouse keeps each signal's state and every level.
    assert replayed.stack.stop_process("warehouse") == 0
    wh = Warehouse.connect(replayed.stack.settings)
    try:  # chDB runs one data directory per process: closed, the next test opens its own
        wh.ensure_schema()
        states = dict(
            wh.query_rows("SELECT signal_id, state FROM signals_current WHERE rule = 'quiet_days'")
        )
        (count,) = wh.query_rows(
            "SELECT count() FROM levels_latest WHERE unit_id IN (%(a)s, %(b)s) AND period = 'day'",
            {"a": PHU_BINH, "b": THAI_NGUYEN},
        )[0]
    finally:
        wh.close()
    assert {states[sid] for sid in quiet_ids()} == {"withdrawn"}
    assert int(count) >= 2 * (last_day - date(2021, 6, 18)).days


def test_every_signal_and_level_alert_goes_out_once_across_a_rebalance_and_a_restart(
    replayed: Replayed,
) -> None:
    reports = sorted(replayed.reports, key=lambda r: r.submitted_at)
    third = len(reports) // 3
    stack = replayed.stack
    replayed.send(reports[:third])
    stack.wait_for("the first worker at work", lambda s: s["rows"]["reports"] > 20)
    stack.start_worker("worker2")  # joins the group: partitions move mid-replay
    wait_for_split(stack)
    replayed.send(reports[third : 2 * third])
    assert stack.stop_process("worker") == 0  # its partitions and tables move to worker2
    replayed.send(reports[2 * third :])
    stack.start_worker("worker")  # and back again
    replayed.wait(
        "both quiet-days alerts",
        lambda: quiet_ids() <= {a.alert_id for a in replayed.signals("quiet_days")},
        timeout=180,
    )
    last_day = max(r.report_date for r in reports)

    def settled() -> bool:  # every report evaluated: the last day's levels are out
        replayed.levels_topic.read()
        return last_day in {
            LevelAssessed.model_validate_json(v).level_date for v in replayed.levels_topic.values
        }

    replayed.wait("the last day's levels", settled, timeout=180)
    time.sleep(5)  # anything sent twice would arrive by now
    # A watchdog restart is a crash: what it sends twice is the sink's and notifier's to
    # drop, so it fails this test first, with where the worker waited.
    assert stack.worker_restarts() == 0, stack.stalls()
    counts = Counter(a.alert_id for a in replayed.alerts if a.kind in ("anomaly", "level"))
    assert counts and max(counts.values()) == 1, [k for k, n in counts.items() if n > 1]
