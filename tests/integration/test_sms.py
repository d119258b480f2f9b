"""A report by SMS, end to end: `baocao phones add`, the webhook, the stream, the warehouse.

The real stack (broker, `baocao worker`, `baocao warehouse` serving the API with
BAOCAO_SMS_SECRET set); a gateway's POST is played with urllib, as a gateway sends it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.stack import Stack

pytestmark = pytest.mark.integration

SECRET = "gateway-secret-2c9e41"
NUMBER = "0912 345 678"  # registered for Huyện Phú Bình (173)
MESSAGE = "BC 27/07/2021 CM=3 CD=1 PCR=420 DT=3 M1T18=1200"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path)
    running.env["BAOCAO_SMS_SECRET"] = SECRET
    running.env["BAOCAO_SMS_WAIT_SECONDS"] = "5"
    running.start()
    try:
        running.wait_for("the service", lambda s: True)
        yield running
    finally:
        running.stop()


def phones(stack: Stack, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "baocao", "phones", *args],
        env=stack.env,
        capture_output=True,
        timeout=120,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def sms(stack: Stack, text: str, sender: str = NUMBER) -> str:
    """What a form-encoded gateway posts, and the reply it sends back."""
    body = urllib.parse.urlencode({"from": sender, "text": text}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.http_port}/api/v1/sms",
        data=body,
        headers={"X-Baocao-Sms-Secret": SECRET},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert answer.status == 200
        assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"
        reply: str = answer.read().decode("ascii")
    assert 0 < len(reply) <= 160, reply
    return reply


def wait_decided(stack: Stack, code: str, timeout: float = 240) -> str:
    """Ask "TT <code>" until the reply carries the stream's decision."""
    deadline = time.monotonic() + timeout
    reply = ""
    while time.monotonic() < deadline:
        stack.check_alive()
        reply = sms(stack, f"TT {code}")
        if "DA NHAN" not in reply:
            return reply
        time.sleep(1)
    raise AssertionError(f"no decision for {code}: {reply}\n{stack.log_tail('worker')}")


def ledger(stack: Stack, report_id_prefix: str) -> list[dict[str, Any]]:
    rows = stack.get("/api/ledger-history") or []
    return [r for r in rows if r["report_id"].replace("-", "").startswith(report_id_prefix)]


def test_a_report_by_sms_reaches_the_warehouse(stack: Stack) -> None:
    assert "registered" in phones(stack, "add", "--unit", "173", "--number", NUMBER)
    assert "+84912345678" in phones(stack, "list")

    # Nobody else: an unregistered number is told so, and nothing is sent.
    reply = sms(stack, MESSAGE, sender="0987000111")
    assert reply.startswith("So 0987000111 chua dang ky")

    reply = sms(stack, MESSAGE)
    found = re.match(r"^BC 27/07 DA (NHAN|CHAP NHAN, TRE HAN) \(ma ([0-9a-f]{4})", reply)
    assert found, reply
    code = found.group(2)
    decided = reply if found.group(1) != "NHAN" else wait_decided(stack, code)
    # 15:00 on 27 July 2021 has long passed: accepted, late, the first revision.
    assert decided == f"BC 27/07 DA CHAP NHAN, TRE HAN (ma {code}, lan 1).", decided

    deadline = time.monotonic() + 60
    while not (rows := ledger(stack, code)) and time.monotonic() < deadline:
        time.sleep(0.5)
    (row,) = rows
    assert (row["unit_id"], row["dataset"], row["report_date"]) == (
        "173",
        "district-daily",
        "2021-07-27",
    )
    assert row["submitted_by"] == "sms:+84912345678" and row["revision"] == 1
    assert json.loads(row["values_json"]) == {
        "cases_new": 3,
        "cases_community": 1,
        "tests_pcr": 420,
        "tests_pcr_positive": 3,
        "vaccine_dose1.age_18_49": 1200,
    }

    # The same SMS again (a gateway's retry): the same receipt, no second revision.
    assert sms(stack, MESSAGE) == decided
    # A late correction without a reason is refused at once, and said in SMS words.
    refused = sms(stack, MESSAGE.replace("CM=3", "CM=4"))
    assert refused.startswith("BC 27/07 KHONG NHAN:"), refused
    time.sleep(2)
    assert len(ledger(stack, code)) == 1 and len(stack.get("/api/ledger-history") or []) == 1

    # A number removed can send no more.
    phones(stack, "remove", "--number", "+84912345678")
    assert "chua dang ky" in sms(stack, "TT")
