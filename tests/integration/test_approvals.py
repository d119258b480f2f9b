"""Approvals end to end: reports and reviewers' decisions through a broker, a worker, chDB.

Phú Bình (district 173) reviews its three checkpoints' reports of 27/07/2021 and Thái
Nguyên (19) accepts the district's own. Reports reach the warehouse before anyone
reviews them (approval never holds them back); then the decisions arrive on the
``approvals`` topic as any Kafka client would write them, one return twice and one
message that is no approval at all. Alerts are read from the ``alerts`` topic itself, so
a repeat sent by the worker would be counted, not hidden by the warehouse's dedupe.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from baocao.status import admin_client
from contract import topics
from contract.events import Alert, ApprovalRecorded, ReportSubmitted
from producers.kafka import ReportProducer
from tests.integration.stack import Stack
from warehouse.client import Warehouse

pytestmark = pytest.mark.integration

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2021, 7, 27)
POSTS = ("CP-19-01", "CP-19-02", "CP-19-03")  # checkpoints of Phú Bình
PHU_BINH, THAI_NGUYEN = "173", "19"
CHECKED = {"people_screened": 410, "tests_antigen": 12, "tests_antigen_positive": 0}
DISTRICT = {"cases_new": 3, "tests_pcr": 120, "tests_pcr_positive": 3}
REASON = "Thiếu số phương tiện được kiểm tra"


def at(hh: int, mm: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hh, mm, tzinfo=TZ)


def report(unit: str, values: dict[str, int], hh: int = 10, reason: str = "") -> ReportSubmitted:
    return ReportSubmitted(
        report_id=uuid.uuid4(),
        dataset="district-daily" if unit == PHU_BINH else "checkpoint-daily",
        unit_id=unit,
        report_date=DAY,
        submitted_at=at(hh),
        submitted_by=f"chot-{unit}",
        values=values,
        reason=reason,
    )


def decision(action: str, unit: str, values: dict[str, int], reason: str = "") -> ApprovalRecorded:
    dataset = "district-daily" if unit == PHU_BINH else "checkpoint-daily"
    reviewer = THAI_NGUYEN if unit == PHU_BINH else PHU_BINH
    return ApprovalRecorded(
        approval_id=ApprovalRecorded.id_of(action, dataset, unit, DAY, 1),
        action=action,  # type: ignore[arg-type]
        dataset=dataset,
        unit_id=unit,
        report_date=DAY,
        revision=1,
        values=values,
        by_name=f"duyet-{reviewer}",
        by_unit=reviewer,
        reason=reason,
        decided_at=at(16),
    )


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with Stack(tmp_path) as running:
        yield running


def committed(stack: Stack, group: str, topic: str) -> int:
    """Offsets ``group`` has committed on ``topic``, summed over its partitions."""
    admin = admin_client(stack.settings)
    try:
        offsets = admin.list_group_offsets(group).get(group, {})
    finally:
        admin.close()
    return sum(max(0, meta.offset) for tp, meta in offsets.items() if tp.topic == topic)


def wait(stack: Stack, what: str, check: Callable[[], bool], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        stack.check_alive()
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out waiting for {what}\n{stack.log_tail('worker')}\n"
                f"{stack.log_tail('warehouse')}"
            )
        time.sleep(0.5)


def everything_on(stack: Stack, topic: str) -> list[bytes]:
    """Every message on ``topic`` up to its end offsets now."""
    consumer = KafkaConsumer(bootstrap_servers=stack.bootstrap, enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        values: list[bytes] = []
        deadline = time.monotonic() + 60
        while any(consumer.position(tp) < ends[tp] for tp in parts):
            assert time.monotonic() < deadline, f"could not read {topic} to its end"
            for records in consumer.poll(500).values():
                values += [r.value for r in records]
        return values
    finally:
        consumer.close()


def test_reviews_land_as_states_and_a_return_alerts_its_submitter_once(stack: Stack) -> None:
    first, returned, corrected = POSTS
    with ReportProducer(stack.settings) as producer:
        producer.send([report(unit, CHECKED) for unit in POSTS])
        producer.send([report(PHU_BINH, DISTRICT)])
    # Nobody has reviewed anything: the reports are in the warehouse all the same.
    stack.wait_for("the reports", lambda s: s["rows"]["reports"] >= 4)

    ret = decision("return", returned, CHECKED, REASON)
    messages = [
        (first, decision("approve", first, CHECKED).to_json()),
        (returned, ret.to_json()),
        (returned, ret.to_json()),  # the same return, delivered twice
        (corrected, decision("approve", corrected, CHECKED).to_json()),
        (PHU_BINH, decision("accept", PHU_BINH, DISTRICT).to_json()),
        (first, b'{"action": "approve", "unit_id": "CP-19-01"}'),  # not an approval
    ]
    producer_ = KafkaProducer(bootstrap_servers=stack.bootstrap, acks="all")
    for key, value in messages:
        producer_.send(topics.APPROVALS, key=key.encode(), value=value)
    producer_.flush()
    producer_.close()
    # A correction after its approval: two values differ from the approved ones.
    changed = {**CHECKED, "people_screened": 450, "tests_antigen": 15}
    with ReportProducer(stack.settings) as producer:
        producer.send([report(corrected, changed, hh=17, reason="Bổ sung số liệu ca chiều")])

    n = len(messages)
    wait(
        stack,
        "the sink to store every decision",
        lambda: committed(stack, "baocao-sink", topics.APPROVALS) >= n,
    )
    wait(
        stack,
        "the worker to read every decision",
        lambda: committed(stack, "baocao-streams", topics.APPROVALS) >= n,
    )
    wait(
        stack,
        "the sink to store the dead letter",
        lambda: committed(stack, "baocao-sink", topics.DEAD_LETTERS) >= 1,
    )
    stack.wait_for("the correction", lambda s: s["rows"]["reports"] >= 5)
    stack.wait_for_alerts(lambda rows: any(r["kind"] == "returned" for r in rows))

    # Every decision the worker read is behind its committed offset, and a return's alert
    # is on the broker before the worker moves on: a second one would be here by now.
    alerts = [Alert.model_validate_json(v) for v in everything_on(stack, topics.ALERTS)]
    (alert,) = [a for a in alerts if a.kind == "returned"]
    assert alert.alert_id == f"returned:checkpoint-daily:{returned}:2021-07-27:r1"
    assert (alert.unit_id, alert.severity) == (returned, "warning")
    assert f"bị Huyện Phú Bình (duyet-173) trả lại: {REASON}." in alert.message_vi
    assert "27/07/2021" in alert.message_vi and REASON in alert.message_en
    assert alert.details["reason"] == REASON and alert.details["by_unit"] == PHU_BINH

    assert stack.stop_process("warehouse") == 0, stack.log_tail("warehouse")  # it flushes
    with Warehouse.connect(stack.settings) as wh:
        wh.ensure_schema()  # idempotent; makes unqualified names resolve to our database
        status = {
            row[0]: row[1:]
            for row in wh.query_rows(
                "SELECT unit_id, state, revision, approved_revision, changed_values, by_name,"
                " by_unit, reason FROM approval_status WHERE report_date = {d:Date}",
                {"d": DAY},
            )
        }
        stored = wh.query_rows(
            "SELECT alert_id, message_vi FROM alerts FINAL WHERE kind = 'returned'"
        )
        dead = wh.query_rows(
            "SELECT count() FROM dead_letters WHERE source_topic = {t:String}",
            {"t": topics.APPROVALS},
        )
    assert status == {
        first: ("approved", 1, 1, 0, "duyet-173", PHU_BINH, ""),
        returned: ("returned", 1, 0, 0, "duyet-173", PHU_BINH, REASON),
        corrected: ("reopened", 2, 1, 2, "duyet-173", PHU_BINH, ""),
        PHU_BINH: ("accepted", 1, 1, 0, "duyet-19", THAI_NGUYEN, ""),
    }
    assert stored == [(alert.alert_id, alert.message_vi)]
    assert dead[0][0] >= 1  # the message that was no approval, kept whole
