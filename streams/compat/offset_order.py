"""Notices when a stream is handed a partition's messages with some skipped.

The ledger decides each report as of its offset (``streams.ledger.as_of``), which
is right only if a worker reads each partition in order. Kafka delivers in order,
but Faust drops, and acks, messages it had queued when flow stops or the generation
changes (``Stream._py_aiter``), and relies on a seek back that does not always come
(faust-streaming/faust#216 and #221; #223 discards prefetched records by generation,
not every case): a worker restarted after ``kill -9`` decided a correction before its
original, and was handed offset 104 after 99 as its table recovery completed.
Within one assignment the offsets a worker sees must follow each other or go back
(a replay after a seek). When they jump forward the worker stops deciding and
restarts, to read the partition again from its committed offset. A new assignment
starts afresh: another worker may have read on. Shown by tests/unit/test_offset_order.py
and tests/integration/test_recovery.py; it can go when Faust never hands a stream a
record past one it dropped.
"""

from __future__ import annotations


class OffsetOrder:
    """The next offset expected per partition, since this worker's last assignment."""

    def __init__(self, checking: bool = True) -> None:
        self.checking = checking  # False (BAOCAO_COMPAT_OFF=offset_order): never a gap
        self._next: dict[int, int] = {}

    def reset(self) -> None:
        """Forget every partition (a new assignment starts from the committed offsets)."""
        self._next.clear()

    def skipped(self, partition: int, offset: int) -> range | None:
        """The offsets never seen before ``offset``, or None when it follows in order.

        Reading an offset again (a seek back) is in order: it is a replay.
        """
        expected = self._next.get(partition)
        self._next[partition] = offset + 1
        if self.checking and expected is not None and offset > expected:
            return range(expected, offset)
        return None
