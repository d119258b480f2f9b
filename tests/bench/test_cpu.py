"""The throughput benchmark's CPU accounting: what each role of a pipeline used."""

from __future__ import annotations

import os
import time

import pytest

from bench.common import cpu_seconds, machine_ticks
from bench.throughput import CpuLook, cpu_use


def test_cpu_seconds_and_machine_ticks_grow_with_work() -> None:
    mine, (busy, total) = cpu_seconds(os.getpid()), machine_ticks()
    end = time.process_time() + 0.3
    while time.process_time() < end:  # burn 0.3 s of this process's CPU
        pass
    assert cpu_seconds(os.getpid()) - mine >= 0.2
    busy2, total2 = machine_ticks()
    assert busy2 > busy and total2 - total >= busy2 - busy


def test_cpu_use_gives_the_busy_share_and_adds_workers_up_per_report() -> None:
    start = CpuLook(1000, (500, 1000), {"worker-0": 1.0, "worker-1": 2.0, "broker": 5.0})
    end = CpuLook(3000, (2100, 3000), {"worker-0": 1.6, "worker-1": 2.8, "broker": 5.5})
    use = cpu_use(start, end)
    assert use["busy"] == pytest.approx(0.8)  # 1,600 of 2,000 ticks
    assert use["worker_ms"] == pytest.approx(0.7)  # (0.6 + 0.8) s over 2,000 reports
    assert use["broker_ms"] == pytest.approx(0.25)
