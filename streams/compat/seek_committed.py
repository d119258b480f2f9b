"""A partition with no committed offset is rewound too when Faust seeks to committed.

Faust drops records it has fetched when flow stops or the group's generation changes
(a rebalance, the end of a table recovery: ``Consumer.getmany``), then calls
``seek_to_committed`` so they are fetched again. aiokafka's ``seek_to_committed``
only seeks partitions whose committed offset is above 0 (aio-libs/aiokafka#1003,
open), so a partition the group has never committed keeps its position past the
dropped records, and they are never read: the worker sits idle with input waiting,
and every stall-watchdog restart is a rebalance that can drop them again.

``install`` makes the seek complete: a stream partition with nothing committed
that was read past its start goes back to its first offset, and one committed at 0
to offset 0, each by an explicit seek (never leaving it without a position).
Changelog partitions are left alone: table recovery places them itself. Reading a
record again is safe: decisions are made as of each report's offset, and every
consumer downstream is idempotent. Shown by tests/integration/test_seek_committed.py
and the deadline test's rebalance (test_deadline_watch.py::test_simulated_day_...);
it can go when aiokafka seeks to a committed offset of 0 and to the reset position
of a partition without one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka

from contract.logs import said

log = logging.getLogger(__name__)

_aiokafka_seek: Any = getattr(faust_aiokafka.AIOKafkaConsumerThread, "seek_to_committed", None)

#: What ``install`` replaces (None when the installed Faust lacks it).
HOOKS = {
    "faust.transport.drivers.aiokafka.AIOKafkaConsumerThread.seek_to_committed": _aiokafka_seek
}


async def rewind_uncommitted(
    consumer: Any, committed: Mapping[Any, int | None], reset: str, keep: Callable[[Any], bool]
) -> list[Any]:
    """Seek back each partition of ``committed`` that aiokafka left past fetched records.

    ``consumer`` is an ``AIOKafkaConsumer``; ``committed`` what its
    ``seek_to_committed`` answered; ``keep(tp)`` True for partitions to leave alone.
    Returns the partitions moved. Only a partition whose position is past where it
    starts is moved, and to an explicit offset: a ``seek_to_beginning`` would leave
    it without a position until the broker answered, and Faust's livelock check
    crashed the worker reading one in that window (seen once in six runs).
    With ``reset="latest"`` nothing is moved: where such a consumer began is unknown.
    """
    if reset != "earliest":
        return []
    at_zero = {tp: 0 for tp, offset in committed.items() if offset == 0 and not keep(tp)}
    never = [tp for tp, offset in committed.items() if offset is None and not keep(tp)]
    fetched = [tp for tp in never if fetch_position(consumer, tp)]
    starts = {**at_zero, **(await consumer.beginning_offsets(fetched) if fetched else {})}
    ahead = {
        tp: position
        for tp, start in starts.items()
        if (position := fetch_position(consumer, tp)) is not None and position > start
    }
    if ahead:  # fetched there, never committed: rare enough to say each time
        log.warning(
            said(
                "reading {where} again from the start: records were fetched there but no "
                "offset is committed yet.",
                "Đọc lại từ đầu {where}: đã tải bản ghi nhưng chưa commit offset nào.",
                where=_names(ahead),
            )
        )
    for tp in ahead:
        consumer.seek(tp, starts[tp])
    return sorted(ahead)


def fetch_position(consumer: Any, tp: Any) -> int | None:
    """The partition's fetch position, or None while it has none (a reset is pending)."""
    state = consumer._subscription.subscription.assignment.state_value(tp)
    return state._position if state is not None else None


def _names(positions: Mapping[Any, int]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}] (at {p})" for tp, p in sorted(positions.items()))


async def _seek_to_committed(self: Any) -> Mapping[Any, int]:
    committed: Mapping[Any, int] = await _aiokafka_seek(self)
    consumer = self._ensure_consumer()
    changelogs: Iterable[str] = self.app.tables.changelog_topics
    try:
        await self.call_thread(
            rewind_uncommitted,
            consumer,
            committed,
            self.app.conf.consumer_auto_offset_reset,
            lambda tp: tp.topic in changelogs,
        )
    except Exception as exc:  # e.g. a rebalance began: it seeks again; never fail Faust's seek
        log.warning(
            "could not rewind partitions with no committed offset (%r); if records there "
            "were dropped, the stall watchdog restarts this worker",
            exc,
        )
    return committed


def install(on: bool = True) -> None:
    """Make every Faust consumer's seek to committed offsets rewind uncommitted partitions.

    ``on=False`` puts Faust's own seek back (process-wide; idempotent).
    """
    seek = _seek_to_committed if on else _aiokafka_seek
    faust_aiokafka.AIOKafkaConsumerThread.seek_to_committed = seek  # type: ignore[method-assign]
