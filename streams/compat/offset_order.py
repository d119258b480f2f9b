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
starts afresh: another worker may have read on. Shown by tests/streams/test_offset_order.py
and tests/integration/test_recovery.py; it can go when Faust never hands a stream a
record past one it dropped.

Restarting is not enough by itself: Faust acks the messages it drops, and counts an
offset its fetch loop passed over as acked too (``Consumer._add_gap``), so its commit
can pass the gap before the stream sees the next offset, and the restarted worker
resumed past the skipped reports (the kill -9 pipeline test: 485 of 514 reports).
``limit_commits`` caps each commit of a checked topic at ``commit_limit``: one past
the last offset read in order, the first skipped one once a gap is seen, nothing
before the first read of an assignment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faust.transport import consumer as faust_consumer

_new_offset: Any = getattr(faust_consumer.Consumer, "_new_offset", None)

#: What ``limit_commits`` replaces (None when the installed Faust lacks it).
HOOKS = {"faust.transport.consumer.Consumer._new_offset": _new_offset}

#: The app attribute holding the commit limit of an app that opted in.
_LIMIT = "_baocao_commit_limit"

#: ``commit_limit`` for a partition nothing was read from since the assignment.
NOTHING = -1


class OffsetOrder:
    """The next offset expected per partition, since this worker's last assignment."""

    def __init__(self, checking: bool = True) -> None:
        self.checking = checking  # False (BAOCAO_COMPAT_OFF=offset_order): never a gap
        self._next: dict[int, int] = {}
        self._limit: dict[int, int] = {}
        self._gapped: set[int] = set()

    def reset(self) -> None:
        """Forget every partition (a new assignment starts from the committed offsets)."""
        self._next.clear()
        self._limit.clear()
        self._gapped.clear()

    def skipped(self, partition: int, offset: int) -> range | None:
        """The offsets never seen before ``offset``, or None when it follows in order.

        Reading an offset again (a seek back) is in order: it is a replay.
        """
        expected = self._next.get(partition)
        self._next[partition] = offset + 1
        if self.checking and expected is not None and offset > expected:
            self._gapped.add(partition)
            self._limit[partition] = expected  # until the next assignment
            return range(expected, offset)
        if partition not in self._gapped:
            self._limit[partition] = offset + 1
        return None

    def commit_limit(self, partition: int) -> int:
        """The highest offset a commit may name: one past the last offset read in order,
        the first skipped offset after a gap, ``NOTHING`` before the first read."""
        return self._limit.get(partition, NOTHING)


def limit_commits(app: Any, topic: str, order: OffsetOrder) -> None:
    """Cap ``app``'s commits of ``topic`` at ``order.commit_limit`` (Faust's other topics
    and apps commit as they would)."""

    def limit(tp: Any) -> int | None:
        return order.commit_limit(tp.partition) if tp.topic == topic else None

    setattr(app, _LIMIT, limit)
    faust_consumer.Consumer._new_offset = _limited_new_offset  # type: ignore[method-assign]


def _limited_new_offset(self: Any, tp: Any) -> int | None:
    offset: int | None = _new_offset(self, tp)
    limit: Callable[[Any], int | None] | None = getattr(self.app, _LIMIT, None)
    cap = None if offset is None or limit is None else limit(tp)
    if cap is None:
        return offset
    # Faust forgets the acks it counted past the cap: a later read acks them again.
    return None if cap == NOTHING else min(offset, cap)  # type: ignore[type-var]
