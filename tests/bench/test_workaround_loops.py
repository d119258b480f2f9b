"""The loops' table counts failures and watchdog restarts per test, broker and switch."""

from __future__ import annotations

from typing import Any

from bench.workaround_loops import ran_on, summary


def run(state: str, passed: bool, restarts: int = 0, seconds: float = 60.0) -> dict[str, Any]:
    return {
        "test": "deadline",
        "broker": "kafka",
        "workaround": "seek_committed" if state == "off" else "none",
        "state": state,
        "passed": passed,
        "seconds": seconds,
        "signs": {"stall_restart": restarts},
    }


def test_each_switch_gets_its_own_row_with_failures_out_of_runs() -> None:
    table = summary(
        [run("on", True, seconds=50), run("off", False, 2), run("off", True), run("on", True)]
    ).splitlines()
    assert table[2] == "| deadline | kafka | all on | 2 | 0/2 | 0/2 | 55 |"
    assert table[3] == "| deadline | kafka | off: seek_committed | 2 | 1/2 | 1/2 | 60 |"


def test_a_run_counts_under_the_broker_its_processes_used() -> None:
    # Asked for Kafka, ran on Tansu: the test id named the broker without its fixture.
    misrouted = {**run("on", True), "ran_on": "tansu"}
    table = summary([misrouted, run("on", True)]).splitlines()
    assert table[2:] == [
        "| deadline | kafka | all on | 1 | 0/1 | 0/1 | 60 |",
        "| deadline | tansu | all on | 1 | 0/1 | 0/1 | 60 |",
    ]


def test_the_broker_is_read_from_its_start_line() -> None:
    kafka = "[2026-12-07 20:38:13,485] INFO [KafkaRaftServer nodeId=1] Kafka Server started"
    assert ran_on(f"worker says hi\n{kafka}\n") == "kafka"
    assert ran_on("tansu broker 0.6.0\nstorage: memory://tansu/\n") == "tansu"
    assert ran_on("no broker log kept") == "?"
