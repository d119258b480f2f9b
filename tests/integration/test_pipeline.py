"""End to end on real components: Tansu, the Faust worker process, the sink on chDB.

Hundreds of reports across the demo registry, with re-sends, corrections, rule
violations and foreign garbage; the worker and then the sink are killed with SIGKILL
mid-stream and restarted; the warehouse must equal what the simulator planned.
"""

from __future__ import annotations

import json
import signal
import uuid
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rocksdict import AccessType, Options, Rdict

from baocao.status import gather
from contract.events import ReportSubmitted
from producers.kafka import ReportProducer
from producers.simulator import Scenario
from tests.integration.plan import (
    assert_decisions_match,
    is_valid,
    planned_scenario,
    read_warehouse,
    wait_committed,
)
from tests.integration.stack import Stack

pytestmark = pytest.mark.integration


@pytest.fixture(params=["memory", "rocksdb"])
def stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """The stack with the worker's tables in memory, then in RocksDB on disk."""
    running = Stack(tmp_path)
    running.env["BAOCAO_WORKER_STORE"] = request.param
    running.env["BAOCAO_WORKER_STATE_DIR"] = str(tmp_path / "worker-state")
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return planned_scenario()


def garbage(at: ReportSubmitted) -> list[tuple[bytes | None, bytes, str]]:
    """Messages another Kafka client might write straight to reports.submitted."""
    unknown_unit = at.model_copy(update={"report_id": uuid.uuid4(), "unit_id": "99999"})
    return [
        (b"173", b"this is not json", "not_json"),
        (
            b"173",
            b'{"schema": "baocao.report/v1", "unit_id": "173", "values": {}}',
            "invalid_field",
        ),
        (None, b'["an", "array"]', "not_json_object"),
        (b"99999", unknown_unit.to_json(), "unknown_unit"),
        (b"173", b'{"pad": "' + b"x" * 70_000 + b'"}', "payload_too_large"),
    ]


def test_reports_come_out_exactly_once(stack: Stack, scenario: Scenario) -> None:
    exp = scenario.expected
    assert len(scenario.reports) >= 500
    junk = garbage(scenario.reports[0])
    with ReportProducer(stack.settings) as producer:
        half = len(scenario.reports) // 2
        producer.send(scenario.reports[:half])
        for key, value, _ in junk:
            producer.send_raw(key, value)
        # Kill the worker without warning mid-stream, then start a fresh one.
        stack.wait_for(
            "some reports in the warehouse", lambda s: s["rows"]["reports"] > 50, timeout=180
        )
        # `baocao status` shows the stream's progress: faust commits every few seconds.
        assert wait_committed(stack, "baocao-streams", "reports.submitted") > 0
        stack.stop_process("worker", signal.SIGKILL)
        stack.start_process("worker")
        before = stack.wait_for("the warehouse", lambda s: True)["rows"]["reports"]
        producer.send(scenario.reports[half:])
        # Re-sending accepted reports must change nothing downstream.
        producer.send([r for r in scenario.reports[:60] if is_valid(r)])
    # The sink (in the warehouse service) dies the same way while the second half is
    # being inserted: batches in flight are read again and their inserts dropped as
    # duplicates (deterministic dedup tokens), never counted twice.
    mid = stack.wait_for("the second half arriving", lambda s: s["rows"]["reports"] > before)
    stack.stop_process("warehouse", signal.SIGKILL)
    if mid["rows"]["reports"] >= exp.accepted:
        warnings.warn("the sink was killed after the last insert, not during", stacklevel=1)
    stack.start_process("warehouse")
    want_rejections = sum(exp.rejected.values()) + len(junk)

    # Messages that are not a report at all also go whole to the dead-letter topic.
    not_reports = [value for _, value, rule in junk if rule != "unknown_unit"]

    def everything(s: dict[str, Any]) -> bool:
        return (
            s["rows"]["reports"] >= exp.accepted
            and s["rows"]["rejections"] >= want_rejections
            and s["rows"]["dead_letters"] >= len(not_reports)
        )

    # A worker that stalls after the restart replaces itself (streams/compat/liveness.py);
    # the totals below must still be exact, so a self-restart cannot hide a loss.
    stack.wait_for("every report in the warehouse", everything, timeout=180)
    if "worker stalled" in stack.log_tail("worker", lines=10_000):
        warnings.warn("the stream worker stalled and restarted itself", stacklevel=1)
    # The sink commits right after each insert. (A faust worker that replaced a
    # SIGKILLed one was seen not to commit for minutes now and then; its replays are
    # idempotent, so totals stay exact. Only the sink's commits are required here.)
    assert wait_committed(stack, "baocao-sink", "reports.accepted", exp.accepted) >= exp.accepted
    # The operator hears of them once: one `pipeline` alert for the topic and day.
    alerts = stack.wait_for_alerts(lambda rows: any(r["kind"] == "pipeline" for r in rows))
    assert [r["alert_id"].split(":")[:3] for r in alerts if r["kind"] == "pipeline"] == [
        ["pipeline", "deadletters", "reports.submitted"]
    ]
    status = gather(stack.settings)
    assert status.broker_ok and status.warehouse is not None
    assert status.warehouse["last_report"] is not None
    got = read_warehouse(stack)
    assert_decisions_match(got, exp)

    rules = Counter(rule for _, rule_ids, _ in got["rejections"] for rule in rule_ids)
    for rule, n in exp.rejected.items():
        assert rules[rule] == n, rules
    for _, _, rule in junk:
        assert rules[rule] >= 1, f"no rejection for {rule}: {rules}"
    assert len(got["rejections"]) == want_rejections
    for _, _, errors in got["rejections"]:
        assert "message_vi" in errors and "message_en" in errors
    dead = got["dead_letters"]
    assert len(dead) == len(not_reports), dead
    assert {topic for topic, _, _ in dead} == {"reports.submitted"}
    assert all(error.startswith("streams: ") for _, _, error in dead)
    assert b"this is not json" in [raw.encode() for _, raw, _ in dead]
    if stack.env["BAOCAO_WORKER_STORE"] == "rocksdb":  # the ledger is on disk, every entry
        assert stack.stop_process("worker") == 0, stack.log_tail("worker")
        assert ledger_on_disk(Path(stack.env["BAOCAO_WORKER_STATE_DIR"])) == set(got["latest"])


def ledger_on_disk(state_dir: Path) -> set[str]:
    """The ledger keys in a stopped worker's RocksDB partitions."""
    keys: set[str] = set()
    paths = sorted(state_dir.glob("v*/tables/ledger-*.db"))
    assert paths, f"no ledger databases under {state_dir}"
    for path in paths:
        db = Rdict(str(path), Options(raw_mode=True), access_type=AccessType.read_only())
        try:
            # Faust stores a str key JSON-encoded, next to its own offset marks.
            # (keys(), not iter(): iterating a raw-mode Rdict raises KeyError.)
            keys |= {json.loads(k) for k in db.keys() if not k.startswith(b"__faust")}  # noqa: SIM118
        finally:
            db.close()
    return keys
