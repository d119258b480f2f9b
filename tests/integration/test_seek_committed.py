"""Records fetched and then dropped are read again, even where the group never committed.

On a real broker with a real aiokafka consumer. Faust drops fetched records in a
rebalance and relies on ``seek_to_committed`` to read them again, but aiokafka's
seek leaves a partition without a commit (or committed at 0) past them; a worker
lost a fresh partition's first report that way (``streams/compat/seek_committed.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from aiokafka import AIOKafkaConsumer  # type: ignore[import-untyped]
from aiokafka.structs import OffsetAndMetadata, TopicPartition  # type: ignore[import-untyped]
from kafka import KafkaProducer

from baocao.broker import EmbeddedBroker, create_topics
from contract.topics import TopicSpec
from streams.compat.seek_committed import fetch_position, rewind_uncommitted
from tests.integration.own_loop import run_in_own_loop

pytestmark = pytest.mark.integration


@dataclass
class AfterDrop:
    committed: dict[TopicPartition, int | None]  # what aiokafka's seek_to_committed saw
    left_at: dict[TopicPartition, int]  # positions after aiokafka's seek
    moved: list[TopicPartition]  # what rewind_uncommitted seeked
    positioned: dict[TopicPartition, int | None]  # every assigned position right after it
    read_again: dict[TopicPartition, list[int]]  # offsets fetched after it


async def drop_and_seek(
    bootstrap: str, tps: list[TopicPartition], idle: TopicPartition, keep: str
) -> AfterDrop:
    """Fetch the first record of ``tps``, "drop" it, seek to committed, then rewind.

    ``idle`` is assigned too but holds nothing: there is nothing to read again.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=f"g-{tps[0].topic}", auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        consumer.assign([*tps, idle])
        await consumer.commit({tps[1]: OffsetAndMetadata(0, "")})
        fetched: set[TopicPartition] = set()
        while fetched != set(tps):
            fetched |= (await consumer.getmany(timeout_ms=2000)).keys()
        committed = await consumer.seek_to_committed()
        left_at = {tp: await consumer.position(tp) for tp in [*tps, idle]}
        moved = await rewind_uncommitted(
            consumer, committed, "earliest", lambda tp: tp.topic == keep
        )
        positioned = {tp: fetch_position(consumer, tp) for tp in [*tps, idle]}
        again = await consumer.getmany(*tps, idle, timeout_ms=5000)
        read_again = {tp: [r.offset for r in records] for tp, records in again.items()}
        return AfterDrop(committed, left_at, moved, positioned, read_again)
    finally:
        await consumer.stop()


def test_partitions_without_a_commit_are_read_again_from_the_start(
    broker: EmbeddedBroker, unique: str, caplog: pytest.LogCaptureFixture
) -> None:
    topic, changelog = f"in-{unique}", f"ledger-changelog-{unique}"
    create_topics(broker.bootstrap, [TopicSpec(topic, 3), TopicSpec(changelog, 1)])
    fresh, at_zero = TopicPartition(topic, 0), TopicPartition(topic, 1)
    log, idle = TopicPartition(changelog, 0), TopicPartition(topic, 2)
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    for tp in (fresh, at_zero, log):
        producer.send(tp.topic, b"first record", partition=tp.partition)
    producer.flush()
    producer.close()

    seen = run_in_own_loop(drop_and_seek(broker.bootstrap, [fresh, at_zero, log], idle, changelog))

    assert seen.committed == {fresh: None, at_zero: 0, log: None, idle: None}
    # The upstream gap: aiokafka moved nothing back, so offset 0 would never be read.
    assert seen.left_at == {fresh: 1, at_zero: 1, log: 1, idle: 0}
    assert seen.moved == [fresh, at_zero]  # not the idle partition: nothing to read again
    # Explicit seeks: no partition is left without a position for Faust to trip on.
    assert seen.positioned == {fresh: 0, at_zero: 0, log: 1, idle: 0}
    assert f"reading {topic}[0] (at 1), {topic}[1] (at 1) again from the start" in caplog.text
    # Both stream partitions are read again from 0; the changelog is left to recovery.
    assert seen.read_again == {fresh: [0], at_zero: [0]}
