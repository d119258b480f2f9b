"""Two stream workers in one group split the partitions and decide every report once.

The second worker joins while the first half of the reports is being processed, so
partitions (and their ledger state) move between workers mid-stream. The warehouse
must still equal the simulator's plan: nothing lost, nothing counted twice.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from producers.kafka import ReportProducer
from tests.integration.plan import (
    assert_decisions_match,
    is_valid,
    planned_scenario,
    read_warehouse,
)
from tests.integration.stack import PARTITIONS, Stack

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path)
    running.env["BAOCAO_LOG_LEVEL"] = "INFO"  # workers log the partitions they hold
    running.start()
    yield running
    running.stop()


HOLDS = re.compile(r"this worker holds reports\.submitted partitions \[([\d, ]*)\]")


def held(stack: Stack, name: str) -> set[int] | None:
    """The partitions the worker's log last said it holds (None before its first)."""
    found = HOLDS.findall((stack.root / f"{name}.log").read_text(errors="replace"))
    return {int(p) for p in found[-1].split(",") if p.strip()} if found else None


def wait_for_split(stack: Stack, timeout: float = 120.0) -> list[set[int]]:
    """Both workers' partitions, once each holds some and together they hold all."""
    got: list[set[int] | None] = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = [held(stack, "worker"), held(stack, "worker2")]
        parts = [p for p in got if p]
        together = sorted(p for part in parts for p in part)
        if len(parts) == 2 and together == list(range(PARTITIONS)):  # and none held twice
            return parts
        time.sleep(1)
    raise AssertionError(f"the two workers never shared the partitions: {got}")


def test_two_workers_split_the_partitions_and_lose_or_double_nothing(stack: Stack) -> None:
    scenario = planned_scenario()
    exp = scenario.expected
    half = len(scenario.reports) // 2
    with ReportProducer(stack.settings) as producer:
        producer.send(scenario.reports[:half])
        stack.wait_for("the first worker at work", lambda s: s["rows"]["reports"] > 20, timeout=180)
        stack.start_process("worker2", "worker")
        split = wait_for_split(stack)  # each partition held by exactly one
        producer.send(scenario.reports[half:])
        producer.send([r for r in scenario.reports[:60] if is_valid(r)])  # re-sent

    assert sorted(p for parts in split for p in parts) == list(range(PARTITIONS)), split
    stack.wait_for(
        "every report in the warehouse",
        lambda s: (
            s["rows"]["reports"] >= exp.accepted
            and s["rows"]["rejections"] >= sum(exp.rejected.values())
        ),
        timeout=180,
    )
    time.sleep(3)  # a doubled decision would arrive too
    assert_decisions_match(read_warehouse(stack), exp)
