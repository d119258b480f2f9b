"""What a worker's consumer believes about each partition it holds, as text for the log.

The stall watchdog (``streams.compat.liveness``) restarts a worker that stops fetching a
partition. Faust and aiokafka each keep their own idea of a partition (Faust's
active, paused and buffered sets, its read and committed offsets; aiokafka's
position, pause flag, highwater and prefetched records), and a partition drops out
of fetching when one of them goes wrong. A restart loses all of it, so it is
logged first. Read from another thread without locks: a snapshot for people, not
for decisions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def describe(app: Any, topics: Iterable[str]) -> str:
    """One line per partition of ``topics`` this worker holds, then the fetcher's state."""
    wanted = set(topics)
    consumer = app.consumer
    out = [
        f"flow_active={getattr(consumer, 'flow_active', '?')} "
        f"rebalancing={app.rebalancing} in_recovery={app.in_recovery}"
    ]
    # Faust's own bookkeeping (faust.transport.consumer.Consumer); no public accessors.
    active: set[Any] = consumer._active_partitions or set()
    paused: set[Any] = consumer._paused_partitions
    buffered: set[Any] = consumer._buffered_partitions
    read: dict[Any, int | None] = consumer._read_offset
    committed: dict[Any, int | None] = consumer._committed_offset
    acked: dict[Any, list[int]] = consumer._acked
    kafka = _aiokafka_consumer(consumer)
    assignment = _assignment(kafka)
    records = getattr(getattr(kafka, "_fetcher", None), "_records", {})
    for tp in sorted(tp for tp in consumer.assignment() if tp.topic in wanted):
        line = (
            f"{tp.topic}[{tp.partition}]: faust active={tp in active} paused={tp in paused} "
            f"buffered={tp in buffered} read={read.get(tp)} committed={committed.get(tp)} "
            f"acked_pending={len(acked.get(tp, ()))}"
        )
        # Faust's TP and aiokafka's TopicPartition are equal tuples: one key for both.
        state = None if assignment is None else assignment.state_value(tp)
        if state is None:
            line += "; aiokafka: not assigned"
        else:
            position = state._position
            line += (
                f"; aiokafka position={position} highwater={state.highwater} "
                f"paused={state.paused} reset={state.awaiting_reset} "
                f"prefetched={tp in records}"
            )
        out.append(line)
    fetcher = getattr(kafka, "_fetcher", None)
    if fetcher is not None:
        task = fetcher._fetch_task
        out.append(
            f"fetcher: in_flight={sorted(fetcher._in_flight)} "
            f"pending={len(fetcher._pending_tasks)} "
            f"routine_done={task.done()} waiters={len(fetcher._fetch_waiters)} "
            f"assignment_active={getattr(assignment, 'active', None)}"
        )
    return "\n".join(out)


def _aiokafka_consumer(consumer: Any) -> Any:
    thread = getattr(consumer, "_thread", None)
    return getattr(thread, "_consumer", None)


def _assignment(kafka: Any) -> Any:
    subscription = getattr(getattr(kafka, "_subscription", None), "subscription", None)
    return getattr(subscription, "assignment", None)
