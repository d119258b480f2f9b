"""The loops' table counts failures and watchdog restarts per test, broker and switch."""

from __future__ import annotations

from typing import Any

from bench.workaround_loops import summary


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
