"""The stall detector: which owned partitions have input waiting and no progress."""

from __future__ import annotations

import asyncio
import contextlib
import time
from concurrent.futures import ThreadPoolExecutor

from kafka import TopicPartition

from streams.compat import liveness
from streams.compat.liveness import StallDetector

A = TopicPartition("reports.submitted", 0)
B = TopicPartition("deadline.ticks", 1)


def test_waiting_input_without_commit_for_the_limit_is_a_stall() -> None:
    d = StallDetector(limit=15)
    assert d.observe(0, {A: (10, 12), B: (5, 5)}) == []
    assert d.observe(14, {A: (10, 12), B: (5, 5)}) == []
    assert d.observe(15, {A: (10, 13), B: (5, 5)}) == [A]


def test_progress_or_an_empty_backlog_restarts_the_clock() -> None:
    d = StallDetector(limit=15)
    d.observe(0, {A: (10, 12)})
    d.observe(10, {A: (11, 12)})  # one more committed: the worker is alive
    assert d.observe(20, {A: (11, 12)}) == []
    assert d.observe(25, {A: (11, 12)}) == [A]
    d.observe(26, {A: (12, 12)})  # caught up
    d.observe(27, {A: (12, 14)})
    assert d.observe(40, {A: (12, 14)}) == []


def test_tansu_end_offset_below_committed_is_no_backlog() -> None:
    d = StallDetector(limit=1)
    d.observe(0, {A: (12, 11)})
    assert d.observe(5, {A: (12, 11)}) == []


def test_a_partition_that_left_the_assignment_is_forgotten() -> None:
    d = StallDetector(limit=15)
    d.observe(0, {A: (10, 12)})
    d.observe(10, {})  # rebalanced away
    d.observe(12, {A: (10, 12)})  # and back: a new clock
    assert d.observe(20, {A: (10, 12)}) == []
    d.reset()
    d.observe(21, {A: (10, 12)})
    assert d.observe(30, {A: (10, 12)}) == []


def test_a_stall_report_shows_where_each_task_waits() -> None:
    async def waits_for_a_commit(never: asyncio.Event) -> None:
        await never.wait()

    async def main() -> str:
        task = asyncio.create_task(waits_for_a_commit(asyncio.Event()), name="committer")
        await asyncio.sleep(0)
        text = liveness.task_stacks([asyncio.get_running_loop()])
        task.cancel()
        return text

    # A thread of its own: an earlier test in the suite may leave a loop running here.
    with ThreadPoolExecutor(1) as pool:
        text = pool.submit(asyncio.run, main()).result()
    assert "task committer" in text and "waits_for_a_commit" in text
    assert "thread " in text  # every thread's stack as well


class OffsetsSay(liveness.OffsetReader):
    """Offsets that say input is waiting; a fetch that finds ``records`` or nothing."""

    def __init__(self, records: set[TopicPartition]) -> None:
        super().__init__([], "g")
        self.records = records
        self.asked: list[dict[TopicPartition, int]] = []

    def read(self, tps: object) -> dict[TopicPartition, tuple[int, int]]:
        return {A: (3, 5)}

    def confirm(self, positions: dict[TopicPartition, int]) -> set[TopicPartition]:
        self.asked.append(positions)
        return self.records


def watch_briefly(
    reader: liveness.OffsetReader,
    busy: liveness.Busy = None,
    stuck_rebalances: list[float] | None = None,
) -> list[list[TopicPartition]]:
    stalls: list[list[TopicPartition]] = []

    async def main() -> None:
        watching = liveness.watch(
            lambda: {A},
            lambda: busy,
            reader,
            StallDetector(limit=0.05),
            stalls.append,
            interval=0.01,
            now=time.monotonic,
            on_stuck_rebalance=None if stuck_rebalances is None else stuck_rebalances.append,
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(watching, 0.5)

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, main()).result()
    return stalls


def test_a_stall_needs_a_record_past_the_committed_offset() -> None:
    """Offsets alone restarted idle workers again and again; a fetch must find input."""
    idle = OffsetsSay(records=set())
    assert watch_briefly(idle) == []
    assert idle.asked and idle.asked[0] == {A: 3}  # fetched from the committed offset
    assert watch_briefly(OffsetsSay(records={A})) == [[A]]


def test_a_rebalance_that_never_ends_is_a_stall_but_a_long_recovery_is_not() -> None:
    """A commit blocked on the producer held a worker in its revocation for good."""
    waiting = OffsetsSay(records={A})
    stuck: list[float] = []
    assert watch_briefly(waiting, busy="rebalancing", stuck_rebalances=stuck) == []
    assert len(stuck) == 1 and stuck[0] > 2 * 0.05  # twice the limit, then once
    restoring: list[float] = []
    assert watch_briefly(waiting, busy="recovering", stuck_rebalances=restoring) == []
    assert restoring == [] and waiting.asked == []  # clocks paused: nothing looked at
