"""End offsets a broker can be trusted on, for every client that compares offsets.

The embedded broker (Tansu) answers ListOffsets(latest) with the first offset of a
partition's last record batch + 1, so a batch of ten records at 0..9 reads as end 1
(no Tansu report of it found; docs/known-issues.md).
Its fetch responses carry the right high watermark. Faust's table recovery, the
worker's liveness check and ``baocao status`` all need the true end, so they read it
here: the listed end, then, where a partition has records, one fetch of its last
batch for the high watermark. On a real Kafka broker both agree and the fetch only
confirms the listed value.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from kafka import KafkaConsumer, TopicPartition


def end_offsets(
    consumer: KafkaConsumer, tps: Iterable[TopicPartition], timeout: float = 10.0
) -> dict[TopicPartition, int]:
    """The offset after the last record of each partition.

    ``consumer`` lists the ends; the last batches are fetched by a fresh consumer with
    the same settings, closed afterwards. (Reassigning one long-lived consumer between
    calls let kafka-python trip over fetches still in flight for partitions it no
    longer held: KeyError on the next call.) Falls back to the listed end for a
    partition whose last batch cannot be fetched within ``timeout`` seconds.
    """
    tps = [TopicPartition(tp.topic, tp.partition) for tp in tps]
    if not tps:
        return {}
    listed = consumer.end_offsets(tps)
    unknown = [tp for tp in tps if listed.get(tp) is None]
    if unknown:  # seen once right after the topics were created
        raise LookupError(f"the broker gave no end offset for {unknown}")
    ends = {tp: int(listed[tp]) for tp in tps}
    probe = [tp for tp in tps if ends[tp] > 0]
    if not probe:
        return ends
    same = {k: v for k, v in consumer.config.items() if k in KafkaConsumer.DEFAULT_CONFIG}
    fetcher = KafkaConsumer(**{**same, "group_id": None, "enable_auto_commit": False})
    try:
        fetcher.assign(probe)
        for tp in probe:
            fetcher.seek(tp, ends[tp] - 1)
        waiting = set(probe)
        deadline = time.monotonic() + timeout
        while waiting and time.monotonic() < deadline:
            fetcher.poll(timeout_ms=200, max_records=10_000)
            for tp in list(waiting):
                high = fetcher.highwater(tp)
                if high is not None:
                    ends[tp] = max(ends[tp], int(high))
                    waiting.discard(tp)
    finally:
        fetcher.close()
    return ends


def records_at(
    consumer: KafkaConsumer, positions: dict[TopicPartition, int], timeout: float = 5.0
) -> set[TopicPartition]:
    """The partitions where a fetch from the given offset returns a record.

    Offsets compared are only an estimate of input waiting (the embedded broker's
    listed ends are off, see above); a record actually fetched is not. Fetched by a
    fresh consumer with ``consumer``'s settings, outside any group; a partition with
    nothing to fetch costs the whole ``timeout``.
    """
    if not positions:
        return set()
    same = {k: v for k, v in consumer.config.items() if k in KafkaConsumer.DEFAULT_CONFIG}
    fetcher = KafkaConsumer(**{**same, "group_id": None, "enable_auto_commit": False})
    found: set[TopicPartition] = set()
    try:
        fetcher.assign(list(positions))
        for tp, offset in positions.items():
            fetcher.seek(tp, offset)
        deadline = time.monotonic() + timeout
        while len(found) < len(positions) and time.monotonic() < deadline:
            for tp, records in fetcher.poll(timeout_ms=200, max_records=10_000).items():
                if any(r.offset >= positions[tp] for r in records):
                    found.add(TopicPartition(tp.topic, tp.partition))
    finally:
        fetcher.close()
    return found
