"""`baocao submit --wait`: the submitter sees what the stream decided, not only the receipt."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from baocao.embedded_stack import EmbeddedStack

pytestmark = pytest.mark.integration

REPORT = [
    "--dataset", "district-daily", "--unit", "173", "--date", "2021-07-27",
    "--value", "cases_new=3", "--value", "tests_pcr=420", "--value", "tests_pcr_positive=3",
]  # fmt: skip


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[EmbeddedStack]:
    with EmbeddedStack(tmp_path) as running:
        running.start_process("worker")
        yield running


def submit(stack: EmbeddedStack, *args: str) -> tuple[int, str]:
    out = subprocess.run(
        [sys.executable, "-m", "baocao", "submit", *args],
        env=stack.env,
        capture_output=True,
        timeout=300,
    )
    return out.returncode, out.stdout.decode() + out.stderr.decode()


def test_wait_prints_acceptance_rejection_and_a_missing_decision(stack: EmbeddedStack) -> None:
    # The first waits for the worker to join its group, too.
    code, out = submit(stack, *REPORT, "--wait", "240")
    assert code == 0, out + stack.log_tail("worker")
    assert "accepted / đã chấp nhận" in out and "revision=1" in out
    assert "late / trễ hạn" in out  # 2021's deadline has long passed
    first = re.search(r"report_id=([0-9a-f-]{36})", out)
    assert first is not None

    # A correction after the deadline without a reason: refused, and the reason shown.
    code, out = submit(stack, *REPORT, "--value", "cases_new=4", "--wait")
    assert code == 1, out
    assert "rejected / bị từ chối" in out
    assert "reason_required" in out and "must give a reason" in out

    # A re-send of the first: a duplicate, so no new decision; said, not hung.
    code, out = submit(stack, *REPORT, "--report-id", first.group(1), "--wait", "3")
    assert code == 3, out
    assert "no decision / chưa có quyết định" in out and "duplicate" in out
