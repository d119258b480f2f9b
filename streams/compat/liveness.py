"""A worker that stops making progress restarts itself.

After a rebalance a Faust worker can sit "ready" with input waiting on a partition it
owns and never fetch it again (upstream reports: faust-streaming/faust#629, #166).
One cause is found and fixed (``streams.compat.seek_committed``: records dropped in a
rebalance on a partition never committed); this watchdog stays for any other.
Nothing is lost — offsets are committed only after their results are published —
but alerts stop. So each worker compares, every few seconds, the group's committed
offset of the partitions it owns with their end offsets, read from the broker by a
separate client. Input waiting and no commit for ``limit`` seconds means stalled:
the worker logs which partitions, where its tasks wait and what its consumer
believes about each partition (``streams.compat.consumer_state``), and replaces
itself with a fresh process (exec: same PID, same log), which is what a restart
after ``kill -9`` does, and that is tested to lose nothing.

The clocks pause while Faust rebalances or restores tables (work, not a stall), but a
rebalance that is not restoring anything and has not ended after ``2 × limit``
counts as a stall too: a commit blocked on the producer (``producer_topics``) held a
worker in its partition revocation for good, and with the clocks paused nothing
restarted it. Shown by tests/integration/test_liveness.py and tests/streams/test_liveness.py;
it can go when neither Faust issue is open and the fault tests, run with it off
(bench/workaround_loops.py), never stall.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient

from contract.kafka_offsets import end_offsets, records_at
from contract.logs import said

log = logging.getLogger(__name__)

#: Environment variable counting self-restarts of one worker process (for the log).
RESTARTS_ENV = "BAOCAO_WORKER_RESTARTS"


@dataclass
class StallDetector:
    """Tells, from successive looks at (committed, end) offsets, which partitions are stuck.

    A partition is stuck when it had input waiting at every look for ``limit`` seconds
    and its committed offset never moved meanwhile. Any progress, an empty backlog or
    a partition leaving the assignment starts its clock again.
    """

    limit: float
    _since: dict[TopicPartition, tuple[float, int]] = field(default_factory=dict)

    def observe(
        self, now: float, offsets: dict[TopicPartition, tuple[int, int]]
    ) -> list[TopicPartition]:
        stuck: list[TopicPartition] = []
        for tp, (committed, end) in offsets.items():
            if end <= committed:  # nothing waiting
                self._since.pop(tp, None)
                continue
            seen = self._since.get(tp)
            if seen is None or seen[1] != committed:
                self._since[tp] = (now, committed)
            elif now - seen[0] >= self.limit:
                stuck.append(tp)
        for tp in set(self._since) - offsets.keys():
            del self._since[tp]
        return sorted(stuck)

    def reset(self) -> None:
        self._since.clear()


class OffsetReader:
    """Committed offsets of a group and end offsets, from the broker (not from Faust)."""

    def __init__(self, bootstrap: list[str], group: str, **client: Any) -> None:
        self.bootstrap = bootstrap
        self.group = group
        self.client = client  # TLS/SASL options (contract.kafka_security.client_kwargs)
        self._admin: KafkaAdminClient | None = None
        self._consumer: KafkaConsumer | None = None

    def read(self, tps: Iterable[TopicPartition]) -> dict[TopicPartition, tuple[int, int]]:
        tps = [TopicPartition(tp.topic, tp.partition) for tp in tps]  # Faust has its own TP
        if not tps:
            return {}
        if self._admin is None:
            self._admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, **self.client)
            self._consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, **self.client)
        assert self._consumer is not None
        groups = self._admin.list_group_offsets(self.group)
        # kafka-python 3 answers {group: {tp: OffsetAndMetadata}}, older ones {tp: ...}
        committed = groups.get(self.group, groups)
        ends = end_offsets(self._consumer, tps)
        return {tp: (committed[tp].offset if tp in committed else 0, int(ends[tp])) for tp in tps}

    def confirm(self, positions: dict[TopicPartition, int]) -> set[TopicPartition]:
        """Of partitions that look stuck at these committed offsets, those with a record there."""
        assert self._consumer is not None  # read() came first
        return records_at(self._consumer, positions)

    def close(self) -> None:
        for client in (self._consumer, self._admin):
            if client is not None:
                client.close()


def restart_process() -> None:
    """Replace this process with a fresh copy of itself (same PID, arguments, output)."""
    restarts = int(os.environ.get(RESTARTS_ENV, "0")) + 1
    os.environ[RESTARTS_ENV] = str(restarts)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, list(sys.orig_argv))


Busy = Literal["rebalancing", "recovering"] | None


async def watch(
    assigned: Callable[[], set[TopicPartition]],
    busy: Callable[[], Busy],
    reader: OffsetReader,
    detector: StallDetector,
    on_stall: Callable[[list[TopicPartition]], None],
    interval: float,
    now: Callable[[], float],
    on_stuck_rebalance: Callable[[float], None] | None = None,
) -> None:
    """Look every ``interval`` seconds; call ``on_stall`` once partitions are stuck.

    ``busy`` (rebalancing or restoring tables) pauses the clocks: a long changelog
    recovery is work, not a stall. A rebalance without recovery lasting over twice the
    detector's limit calls ``on_stuck_rebalance`` (with its duration) instead.
    """
    rebalancing_since: float | None = None
    while True:
        await asyncio.sleep(interval)
        state = busy()
        if state == "rebalancing":
            rebalancing_since = rebalancing_since if rebalancing_since is not None else now()
            lasted = now() - rebalancing_since
            if on_stuck_rebalance is not None and lasted > 2 * detector.limit:
                on_stuck_rebalance(lasted)
                return
        else:
            rebalancing_since = None
        if state:
            log.debug("liveness: %s; not looking", state)
            detector.reset()
            continue
        try:
            offsets = await asyncio.to_thread(reader.read, assigned())
        except Exception as exc:  # the broker's own outage is not this worker's stall
            log.warning("liveness: could not read offsets (%s)", exc)
            detector.reset()
            continue
        log.debug("liveness: (committed, end) %s", offsets)
        stuck = detector.observe(now(), offsets)
        if stuck:
            # Only a record fetched past the committed offset proves input is waiting;
            # offsets alone restarted healthy, idle workers again and again (CI).
            try:
                waiting = await asyncio.to_thread(
                    reader.confirm, {tp: offsets[tp][0] for tp in stuck}
                )
            except Exception as exc:
                log.warning("liveness: could not fetch to confirm (%s)", exc)
                waiting = set(stuck)
            real = [tp for tp in stuck if tp in waiting]
            if real:
                on_stall(real)
                return
            log.warning(
                "liveness: %s look behind by their offsets but hold no record past the "
                "committed offset; not a stall",
                ", ".join(f"{tp.topic}[{tp.partition}]" for tp in stuck),
            )
            detector.reset()


def task_stacks(loops: Iterable[asyncio.AbstractEventLoop]) -> str:
    """Where every task of ``loops`` and every thread is waiting, as text for the log.

    A stall restarts the process and loses this, so it is logged first: it is the
    only record of what Faust was blocked on.
    """
    out = io.StringIO()
    for loop in loops:
        for task in asyncio.all_tasks(loop):
            out.write(f"task {task.get_name()}:\n")
            # Follow the await chain: a task's own stack shows only its outer frame.
            coro: Any = task.get_coro()
            for _ in range(30):
                frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
                if frame is not None:
                    code = frame.f_code
                    out.write(f"  {code.co_filename}:{frame.f_lineno} {code.co_name}\n")
                coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
                if coro is None:
                    break
    for ident, frame in sys._current_frames().items():
        out.write(f"thread {ident}:\n{''.join(traceback.format_stack(frame, limit=15))}")
    return out.getvalue()


def report_stuck_rebalance(lasted: float) -> None:
    log.error(
        said(
            "worker stalled: a rebalance has not ended after {s:.0f} s; restarting.",
            "Worker bị treo: tái phân bổ phân vùng chưa xong sau {s:.0f} giây; khởi động lại.",
            s=lasted,
        )
    )


def report_stall(stuck: list[TopicPartition], limit: float) -> None:
    names = ", ".join(f"{tp.topic}[{tp.partition}]" for tp in stuck)
    log.error(
        said(
            "worker stalled: input waiting on {names} with no commit for {s:.0f} s; restarting.",
            "Worker bị treo: có dữ liệu chờ ở {names} nhưng không xử lý trong {s:.0f} giây; "
            "khởi động lại.",
            names=names,
            s=limit,
        )
    )
