"""A worker that takes over partitions restores the whole ledger, to the last record.

The embedded broker lists a partition's end as the first offset of its last record
batch + 1. Faust recovers tables up to the listed end, so without
``streams.recovery_offsets`` a worker restarted after ``kill -9`` (or given partitions
in a rebalance) forgot the ledger entries in the rest of each changelog's last batch.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from baocao.broker import create_topics
from baocao.reseed import write_changelog
from contract import topics
from contract.events import ReportAccepted, ReportSubmitted
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
