"""The stall detector: which owned partitions have input waiting and no progress."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from kafka import TopicPartition

from streams import liveness
from streams.liveness import StallDetector

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
