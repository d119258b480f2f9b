"""The deadline barrier: missing units are judged once what came before the deadline is decided."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest

from streams.barrier import DeadlineBarrier
from tests.support.deadlines import at

DEADLINE = at(15)


def barrier(
    end: dict[int, int], committed: dict[int, int], max_wait: float = 60.0
) -> DeadlineBarrier:
    async def end_offset(partition: int) -> int:
        return end[partition]

    return DeadlineBarrier(end_offset, committed.get, max_wait)


def passed(b: DeadlineBarrier, partition: int, *deadlines: datetime) -> bool:
    # A thread of its own: an earlier test in the suite may leave a loop running here.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, b.passed(partition, deadlines or (DEADLINE,))).result()


def test_waits_for_what_the_partition_held_at_the_deadline_not_what_came_after() -> None:
    end = {0: 5}
    b = barrier(end, {})
    assert not passed(b, 0)
    for offset in range(4):
        b.decided(0, offset)
    assert not passed(b, 0)
    end[0] = 50  # late reports keep arriving: they do not hold the deadline back
    b.decided(0, 4)
    assert passed(b, 0)
    assert passed(b, 0)  # and stays passed


def test_a_committed_offset_counts_as_decided_after_a_restart() -> None:
    # Nothing decided in this process yet: the group's committed offset is the bound.
    assert passed(barrier({1: 7}, {1: 7}), 1)
    assert not passed(barrier({1: 7}, {1: 6}), 1)


def test_partitions_and_deadlines_are_judged_apart() -> None:
    end = {0: 1, 1: 1}
    b = barrier(end, {})
    b.decided(0, 0)
    assert passed(b, 0)
    assert not passed(b, 1)
    end[0] = 3  # the next day's deadline finds more on partition 0
    assert not passed(b, 0, DEADLINE, at(15, day=DEADLINE.date().replace(day=28)))
    assert passed(b, 0, DEADLINE)


def test_a_partition_that_cannot_catch_up_is_judged_after_max_wait_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    b = barrier({0: 10}, {}, max_wait=0.0)
    assert not passed(b, 0)  # the first look notes the end offset and waits
    with caplog.at_level(logging.WARNING, logger="streams.barrier"):
        assert passed(b, 0)
    assert "still undecided" in caplog.text and "chưa xử lý" in caplog.text


def test_an_unknown_end_waits_out_max_wait_rather_than_alerting_early(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def unreachable(partition: int) -> int:
        raise ConnectionError("broker down")

    b = DeadlineBarrier(unreachable, {0: 99}.get, max_wait=0.0)
    with caplog.at_level(logging.WARNING, logger="streams.barrier"):
        assert not passed(b, 0)
        assert passed(b, 0)
    assert "end of the submissions unknown" in caplog.text and "broker down" in caplog.text
