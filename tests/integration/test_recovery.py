"""A worker that takes over partitions restores the whole ledger and decides again right.

The embedded broker lists a partition's end as the first offset of its last record
batch + 1. Faust recovers tables up to the listed end, so without
``streams.compat.recovery_offsets`` a worker restarted after ``kill -9`` (or given partitions
in a rebalance) forgot the ledger entries in the rest of each changelog's last batch.

The ledger's changelog is written as reports are decided, before their offsets are
committed, so it can also hold decisions of a run that never committed them, made
out of order by a worker that had skipped ahead. The next worker reads those
messages again and must decide them as if that run never happened.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from baocao.broker import create_topics
from baocao.reseed import write_changelog
from contract import topics
from contract.events import ReportAccepted, ReportRejected, ReportSubmitted
from contract.kafka_offsets import end_offsets
from contract.registry import Registry
from producers.kafka import ReportProducer
from streams.ledger import LedgerEntry, Seen, content_hash
from streams.seed import LEDGER_CHANGELOG, changelog_records
from tests.integration.stack import PARTITIONS, Stack

pytestmark = pytest.mark.integration

DAY = date(2021, 7, 20)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
VALUES = {"cases_new": 3, "cases_community": 1, "tests_pcr": 400, "tests_pcr_positive": 3}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path)
    running.broker.start()
    create_topics(running.broker.bootstrap, topics.specs(PARTITIONS))
    yield running
    running.stop()


def report(unit_id: str, hour: int, **fields: str) -> ReportSubmitted:
    return ReportSubmitted(
        report_id=uuid.uuid4(),
        dataset="district-daily",
        unit_id=unit_id,
        report_date=DAY,
        submitted_at=datetime(2021, 7, 20, hour, tzinfo=TZ),
        submitted_by="test",
        values=VALUES,
        **fields,
    )


def test_end_offsets_count_every_record_of_the_last_batch(stack: Stack) -> None:
    create_topics(stack.broker.bootstrap, [topics.TopicSpec("batched", 2)])
    producer = KafkaProducer(bootstrap_servers=stack.broker.bootstrap, linger_ms=200)
    for n in range(10):  # one batch: linger holds them until flush
        producer.send("batched", value=b"%d" % n, partition=0)
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=stack.broker.bootstrap)
    try:
        tps = [TopicPartition("batched", 0), TopicPartition("batched", 1)]
        want = {tps[0]: 10, tps[1]: 0}
        assert end_offsets(consumer, tps) == want
        assert consumer.assignment() == set()  # not used for fetching
        # The liveness check asks every few seconds, for other partitions each time.
        for n in range(20):
            asked = [tps[n % 2]]
            assert end_offsets(consumer, asked) == {tp: want[tp] for tp in asked}
    finally:
        consumer.close()


def test_a_new_worker_continues_every_ledger_entry(stack: Stack) -> None:
    """Revisions continue and re-sends are dropped for every entry, not the first per batch."""
    districts = [u.unit_id for u in Registry.load().expected("district-daily", DAY)]
    assert len(districts) >= 40
    earlier = {unit: report(unit, 9) for unit in districts}
    ledger = {
        r.ledger_key: LedgerEntry(
            r.submitted_at, "on_time", 2, {str(r.report_id): Seen(2, content_hash(r), -1, -1)}
        )
        for r in earlier.values()
    }
    # What a worker that was killed had written: many entries per partition, batched.
    write_changelog(
        stack.broker.bootstrap, LEDGER_CHANGELOG, changelog_records(ledger, PARTITIONS), PARTITIONS
    )
    stack.start_process("worker")

    corrections = [report(unit, 10, reason="sửa số xét nghiệm") for unit in districts]
    with ReportProducer(stack.settings) as producer:
        producer.send(list(earlier.values()))  # re-sent: every one is a duplicate
        producer.send(corrections)
    consumer = KafkaConsumer(
        topics.ACCEPTED,
        bootstrap_servers=stack.broker.bootstrap,
        auto_offset_reset="earliest",
        group_id=f"t-{uuid.uuid4().hex[:8]}",
    )
    accepted: list[ReportAccepted] = []
    deadline = time.monotonic() + 120
    try:
        while len(accepted) < len(corrections) and time.monotonic() < deadline:
            for records in consumer.poll(1000).values():
                accepted += [ReportAccepted.model_validate_json(r.value) for r in records]
            assert stack.procs["worker"].poll() is None, stack.log_tail("worker")
        time.sleep(3)  # anything more (a re-sent report accepted again) arrives too
        for records in consumer.poll(1000).values():
            accepted += [ReportAccepted.model_validate_json(r.value) for r in records]
    finally:
        consumer.close()

    assert {a.report_id for a in accepted} == {c.report_id for c in corrections}, stack.log_tail(
        "worker"
    )
    assert {a.unit_id: a.revision for a in accepted} == dict.fromkeys(districts, 3)


def read_back(bootstrap: str, topic: str, ids: set[str], timeout: float = 120) -> list[Any]:
    """Decisions on ``topic`` until one per report_id in ``ids`` (and 3 s more) arrived.

    At least once: a worker that restarted (its stall watchdog) publishes some
    decisions again, identical but for the time they were made.
    """
    kind: Any = ReportAccepted if topic == topics.ACCEPTED else ReportRejected
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=f"t-{uuid.uuid4().hex[:8]}",
    )
    got: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while not ids <= {str(d.report_id) for d in got} and time.monotonic() < deadline:
            for records in consumer.poll(1000).values():
                got += [kind.model_validate_json(r.value) for r in records]
        time.sleep(3)  # anything more (a decision made differently) arrives too
        for records in consumer.poll(1000).values():
            got += [kind.model_validate_json(r.value) for r in records]
    finally:
        consumer.close()
    return got


def test_decisions_an_uncommitted_run_made_out_of_order_are_made_again(stack: Stack) -> None:
    """Seen in the kill/restart pipeline test: a late correction had become revision 1."""
    districts = [u.unit_id for u in Registry.load().expected("district-daily", DAY)][:12]
    originals = {unit: report(unit, 9) for unit in districts}
    late_fixes = {unit: report(unit, 16) for unit in districts}  # late, and no reason: rejected
    with ReportProducer(stack.settings) as producer:
        producer.send(list(originals.values()))
        producer.send(list(late_fixes.values()))
    where = {}
    consumer = KafkaConsumer(
        topics.SUBMITTED,
        bootstrap_servers=stack.broker.bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
    )
    deadline = time.monotonic() + 60
    try:
        while len(where) < 2 * len(districts) and time.monotonic() < deadline:
            for records in consumer.poll(1000).values():
                where |= {
                    ReportSubmitted.model_validate_json(r.value).report_id: (r.partition, r.offset)
                    for r in records
                }
    finally:
        consumer.close()
    # The changelog as a worker left it that read each correction but not its original
    # (and never committed): the correction is revision 1 and decided the timeliness.
    ledger = {
        fix.ledger_key: LedgerEntry(
            fix.submitted_at,
            "late",
            1,
            {str(fix.report_id): Seen(1, content_hash(fix), *where[fix.report_id])},
        )
        for fix in late_fixes.values()
    }
    write_changelog(
        stack.broker.bootstrap, LEDGER_CHANGELOG, changelog_records(ledger, PARTITIONS), PARTITIONS
    )
    stack.start_process("worker")  # nothing committed: it reads from the start

    original_ids = {str(r.report_id) for r in originals.values()}
    accepted = read_back(stack.broker.bootstrap, topics.ACCEPTED, original_ids)
    # A set: a decision published twice (at least once) must be the same decision.
    assert {(a.unit_id, a.report_id, a.revision, a.timeliness) for a in accepted} == {
        (r.unit_id, r.report_id, 1, "on_time") for r in originals.values()
    }, stack.log_tail("worker")
    fix_ids = {str(r.report_id) for r in late_fixes.values()}
    rejected = read_back(stack.broker.bootstrap, topics.REJECTED, fix_ids, timeout=30)
    assert {r.report_id for r in rejected} == fix_ids
    assert {e.code for r in rejected for e in r.errors} == {"reason_required"}
