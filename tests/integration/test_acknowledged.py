"""`baocao up` loses no acknowledged report when one of its processes dies.

Eight clients submit new reports through the API while a process of the stack is
killed with SIGKILL: the warehouse service (the runner restarts it; the broker and the
worker keep running) or the broker itself (the runner stops everything; the next `up`
starts on an empty broker and the outbox re-sends what it had acknowledged). Afterwards
every report answered 200/201/202 is in the warehouse exactly once, none is rejected,
and the totals equal what the clients were told was received.
"""

from __future__ import annotations

import os
import re
import signal
import time
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from baocao.broker import free_port
from contract.registry import Registry
from tests.integration.clients import (
    Answer,
    Clients,
    new_reports,
    province_tokens,
    wait_outbox_decided,
    warehouse_of,
)
from tests.integration.test_up import Up

pytestmark = pytest.mark.integration

#: Between two reports of one client: about 40 reports a second from the eight, a few
#: hundred in flight when the process is killed (the issue's clients sent ~8 a second).
PAUSE_S = 0.2
#: Long enough that only the start's recovery, not the periodic re-send, can save a report.
ENV = {"BAOCAO_OUTBOX_RESEND_SECONDS": "3600", "BAOCAO_RATE_LIMIT_PER_MINUTE": "0"}


@pytest.fixture
def runners(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Up]]:
    """Every `baocao up` a test starts (with ``ENV``), killed at the end if still running."""
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)  # Up copies the environment for its runner
    started: list[Up] = []
    yield started
    for up in started:
        if up.proc.poll() is None:
            up.proc.kill()
            up.proc.wait(30)


def start_up(tmp: Path, broker_port: int, http_port: int, runners: list[Up]) -> Up:
    up = Up(tmp, broker_port, http_port, demo_days=0)
    runners.append(up)
    up.wait_status(lambda s: True)
    return up


def pid_of(up: Up, name: str) -> int:
    """The pid the runner's banner (or its last restart line) gives for ``name``."""
    found = re.findall(rf"^\s*{re.escape(name)}\S*\s.*?pid (\d+)", up.output(), re.M)
    found += re.findall(rf"{re.escape(name)} restarted, pid (\d+)", up.output())
    assert found, up.output()
    return int(found[-1])


def wait_decided(up: Up, acked: list[Answer], timeout: float = 300) -> None:
    """Until the service's outbox has a decision for every acknowledged report."""
    decided = wait_outbox_decided(up.out.parent / "outbox.sqlite", acked, timeout)
    assert decided == len(acked), (
        f"{decided} of {len(acked)} decided; status {up.status()}\n"
        f"{up.log_tail('worker')}\n{up.log_tail('warehouse')}"
    )


def check_exactly_once(acked: list[Answer], chdb: Path) -> dict[str, Any]:
    got = warehouse_of(acked, chdb)
    ids = {a.body["report_id"] for a in acked}
    missing = ids - set(got["decisions"])
    assert not missing, f"{len(missing)} acknowledged report(s) never decided: {sorted(missing)}"
    assert set(got["decisions"].values()) == {1}, "a report was decided twice, differently"
    if got["copies"]:
        warnings.warn(f"{got['copies']} decision(s) stored twice", stacklevel=1)
    assert got["rejected"] == []
    assert got["unit_days"] == len(ids)
    assert got["cases"] == sum(a.body["values"]["cases_new"] for a in acked)
    return got


def test_a_killed_warehouse_service_is_restarted_and_nothing_acknowledged_is_lost(
    tmp_path: Path, runners: list[Up]
) -> None:
    registry = Registry.load()
    up = start_up(tmp_path, free_port(), free_port(), runners)
    tokens = province_tokens(tmp_path, registry)
    work = new_reports(registry, date(2021, 7, 27), 60)
    clients = Clients(up.http_port, tokens, registry, work, n=8, pause_s=PAUSE_S)
    clients.start()
    time.sleep(12)
    old = pid_of(up, "warehouse")
    os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 90
    while "warehouse restarted" not in up.output() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert "warehouse exited with code -9; restarting" in up.output(), up.output()
    assert "warehouse restarted" in up.output(), up.output()
    up.wait_status(lambda s: True)
    time.sleep(8)  # submissions go on against the restarted service
    clients.stop()
    assert not clients.failures
    acked = clients.acknowledged()
    assert len(acked) > 100 and len(acked) == len(clients.answers), clients.answers[-3:]
    wait_decided(up, acked)
    assert up.proc.poll() is None, "the runner stopped: " + up.output()
    assert pid_of(up, "worker") and "stopping" not in up.output()
    up.proc.send_signal(signal.SIGINT)
    assert up.proc.wait(120) == 0, up.output()
    check_exactly_once(acked, tmp_path / "warehouse")


def test_a_killed_broker_stops_the_stack_and_the_next_start_decides_every_receipt(
    tmp_path: Path, runners: list[Up]
) -> None:
    registry = Registry.load()
    broker_port, http_port = free_port(), free_port()
    first = start_up(tmp_path, broker_port, http_port, runners)
    tokens = province_tokens(tmp_path, registry)
    work = new_reports(registry, date(2021, 7, 27), 60)
    clients = Clients(first.http_port, tokens, registry, work, n=8, pause_s=PAUSE_S)
    clients.start()
    time.sleep(9)
    # Receipts the broker holds but the worker has not decided yet die with the broker.
    # On Kafka a report is decided within about a second, so without this pause the
    # kill can fall where every acknowledged report is already decided and nothing
    # needs re-sending; paused, the worker surely leaves some.
    worker = pid_of(first, "worker")
    os.kill(worker, signal.SIGSTOP)
    time.sleep(3)
    os.kill(pid_of(first, "broker"), signal.SIGKILL)
    os.kill(worker, signal.SIGCONT)  # so that `baocao up` can stop it
    assert first.proc.wait(120) == 1, first.output()
    assert "the broker exited with code -9; stopping everything" in first.output()
    clients.stop(timeout=0)  # no new reports; those being tried go on until answered
    second = start_up(tmp_path, broker_port, http_port, runners)
    clients.stop()
    assert not clients.failures
    acked = clients.acknowledged()
    assert len(acked) > 100
    wait_decided(second, acked)
    log = (tmp_path / "var" / "logs" / "warehouse.log").read_text(errors="replace")
    assert "re-sending" in log, "nothing was re-sent: the broker lost nothing?"
    second.proc.send_signal(signal.SIGINT)
    assert second.proc.wait(120) == 0, second.output()
    check_exactly_once(acked, tmp_path / "warehouse")
