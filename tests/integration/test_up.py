"""`baocao up` as a user runs it: start, answer, Ctrl-C, nothing left behind, data kept."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from baocao.broker import free_port, port_open

pytestmark = pytest.mark.integration


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


class Up:
    """One `baocao up` process with its own ports and data directory."""

    def __init__(
        self, tmp: Path, broker_port: int, http_port: int, demo_days: int, live_speed: float = 0
    ) -> None:
        self.http_port, self.broker_port = http_port, broker_port
        self.env = env = {
            **os.environ,
            "BAOCAO_BROKER": f"127.0.0.1:{broker_port}",
            "BAOCAO_HTTP_PORT": str(http_port),
            "BAOCAO_CHDB_PATH": str(tmp / "warehouse"),
        }
        self.out = tmp / f"up-{time.monotonic_ns()}.log"
        self.data_dir = tmp / "var"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "baocao",
                "up",
                "--demo-days",
                str(demo_days),
                "--live-speed",
                str(live_speed),
                "--data-dir",
                str(tmp / "var"),
            ],
            env=env,
            stdout=open(self.out, "wb"),  # noqa: SIM115  (the child owns it)
            stderr=subprocess.STDOUT,
        )

    def history(self, path: str = "/api/ledger-history") -> list[dict[str, Any]]:
        url = f"http://127.0.0.1:{self.http_port}{path}"
        with urllib.request.urlopen(url, timeout=30) as resp:
            rows: list[dict[str, Any]] = json.loads(resp.read())
            return rows

    def page(self, path: str) -> str:
        url = f"http://127.0.0.1:{self.http_port}{path}"
        with urllib.request.urlopen(url, timeout=30) as resp:
            return str(resp.read().decode())

    def output(self) -> str:
        return self.out.read_text(errors="replace")

    def log_tail(self, name: str, lines: int = 60) -> str:
        """The end of one child's log (var/logs/<name>.log), for a failure message."""
        path = self.data_dir / "logs" / f"{name}.log"
        if not path.exists():
            return f"(no {path})"
        text = path.read_text(errors="replace").splitlines()[-lines:]
        return f"--- {name}.log ---\n" + "\n".join(text)

    def child_pids(self) -> list[int]:
        return [int(p) for p in re.findall(r"pid (\d+)", self.output())]

    def status(self) -> dict[str, Any] | None:
        try:
            url = f"http://127.0.0.1:{self.http_port}/api/status"
            with urllib.request.urlopen(url, timeout=5) as resp:
                data: dict[str, Any] = json.loads(resp.read())
                return data
        except OSError:
            return None

    def wait_status(self, check: Any, timeout: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            status = self.status()
            if status is not None and check(status):
                return status
            time.sleep(0.5)
        raise AssertionError(f"no status; output:\n{self.output()}")


@pytest.fixture
def started() -> Iterator[list[Up]]:
    """Every runner a test starts; one still running when the test ends is killed.

    A failing assertion would otherwise leave a whole stack running (its children die
    with it: they carry a parent-death signal).
    """
    runners: list[Up] = []
    yield runners
    for up in runners:
        if up.proc.poll() is None:
            up.proc.kill()
            up.proc.wait(30)


def test_up_runs_everything_and_ctrl_c_leaves_nothing_behind(
    tmp_path: Path, started: list[Up]
) -> None:
    broker_port, http_port = free_port(), free_port()
    # Two days of history at once, then the days after them live, a day in 12 s.
    first = Up(tmp_path, broker_port, http_port, demo_days=2, live_speed=7200)
    started.append(first)
    first.wait_status(lambda s: s["rows"]["reports"] > 0)
    out = first.output()
    assert f"127.0.0.1:{broker_port}" in out and f"http://127.0.0.1:{http_port}/" in out
    pids = first.child_pids()
    assert len(pids) >= 4  # broker, worker, warehouse, demo
    # The live demo publishes the next day's reports as its clock reaches them, and the
    # worker, following the same clock, announces that day's 15:00 deadline.
    live = first.wait_status(
        lambda s: (s["last_report"] or {}).get("report_date", "") >= "2021-07-28", timeout=240
    )
    assert "live demo: simulate --start 2021-07-28" in first.output()
    # The web app follows the demo's clock too: dashboards open on the demo's days
    # (on the system clock's they would show nothing).
    shown = re.search(r"name='to' value='([0-9-]+)'", first.page("/dashboards/baocao-situation"))
    assert shown is not None and "2021-07-28" <= shown.group(1) < "2022", shown
    days = {r["report_date"] for r in first.history()}
    assert {"2021-07-26", "2021-07-27", "2021-07-28"} <= days, sorted(days)
    summaries: list[dict[str, Any]] = []
    for _ in range(240):
        summaries = [
            a
            for a in first.history("/api/alert-history")
            if a["kind"] == "summary" and a["report_date"] == "2021-07-28"
        ]
        if summaries:
            break
        time.sleep(0.5)
    assert summaries, f"no deadline summary for the live day\n{first.log_tail('worker')}"
    status = live
    first.proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
    assert first.proc.wait(90) == 0, first.output()
    assert "stopped" in first.output()
    assert not [p for p in pids if alive(p)], "child processes survived Ctrl-C"
    assert not port_open("127.0.0.1", broker_port) and not port_open("127.0.0.1", http_port)

    # A second run starts with an empty broker but keeps the warehouse, and the stream
    # still knows every revision: a correction continues the numbering and keeps the
    # original's timeliness.
    second = Up(tmp_path, broker_port, http_port, demo_days=0)
    started.append(second)
    again = second.wait_status(lambda s: True)
    assert again["rows"]["reports"] >= status["rows"]["reports"]
    for _ in range(120):
        if "restored from the warehouse: ledger of" in second.output():
            break
        time.sleep(0.5)
    assert "restored from the warehouse: ledger of" in second.output()
    history = second.history()
    original = next(
        r
        for r in history
        if r["dataset"] == "district-daily"
        and r["timeliness"] == "on_time"
        and r["revision"] == 1
        and not any(
            o["unit_id"] == r["unit_id"]
            and o["report_date"] == r["report_date"]
            and o["revision"] > 1
            for o in history
        )
    )
    submit = subprocess.run(
        [
            sys.executable,
            "-m",
            "baocao",
            "submit",
            "--dataset",
            original["dataset"],
            "--unit",
            original["unit_id"],
            "--date",
            original["report_date"],
            "--value",
            "cases_new=1",
            "--reason",
            "rà soát sau khi khởi động lại",
        ],
        env=second.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert submit.returncode == 0, submit.stderr
    key = (original["dataset"], original["unit_id"], original["report_date"])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        fixes = [
            r
            for r in second.history()
            if (r["dataset"], r["unit_id"], r["report_date"]) == key and r["revision"] > 1
        ]
        if fixes:
            break
        time.sleep(0.5)
    assert [(r["revision"], r["timeliness"]) for r in fixes] == [(2, "on_time")]
    pids = second.child_pids()
    second.proc.kill()  # the runner dies without cleaning up ...
    second.proc.wait(30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and [p for p in pids if alive(p)]:
        time.sleep(0.2)
    assert not [p for p in pids if alive(p)], "children outlived a killed runner"


def test_up_refuses_a_port_in_use(tmp_path: Path, started: list[Up]) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        up = Up(tmp_path, free_port(), busy.getsockname()[1], demo_days=0)
        started.append(up)
        assert up.proc.wait(60) != 0
    assert "in use" in up.output()
