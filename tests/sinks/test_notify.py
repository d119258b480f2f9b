"""What operators read of an alert: e-mail subjects, log lines and webhook bodies.

Vietnamese first, English after, and units named as the registry names them (diacritics
kept), in every channel. No broker: the channels are called as the notifier calls them.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from contract.datasets import Catalog
from contract.events import Alert
from contract.registry import Registry
from sinks.notify.channels import EmailChannel, LogChannel, WebhookChannel, signature
from streams import messages
from streams.deadlines import Partial
from tests.support.smtp import smtp_server

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2021, 7, 27)
DEADLINE = datetime(2021, 7, 27, 15, 0, tzinfo=TZ)
LUC_NAM_VI = "Huyện Lục Nam chưa gửi báo cáo ngày cấp huyện ngày 27/07/2021 (hạn chót 15:00)."
LUC_NAM_EN = "Huyện Lục Nam has not sent its District daily report for 2021-07-27 (due at 15:00)."


@pytest.fixture(scope="module")
def luc_nam() -> Alert:
    """The missing alert the deadline watch raises for Huyện Lục Nam (218, Bắc Giang)."""
    registry, catalog = Registry.load(), Catalog.load()
    unit, ds = registry.get("218"), catalog.get("district-daily")
    assert unit is not None and ds is not None
    return messages.missing(unit, ds, DAY, DEADLINE, DEADLINE, None)


def test_the_alert_text_names_the_unit_with_its_diacritics(luc_nam: Alert) -> None:
    assert luc_nam.message_vi == LUC_NAM_VI
    assert luc_nam.message_en == LUC_NAM_EN  # not "Huyen Luc Nam", not "report report"


def test_email_subject_is_vietnamese_first_then_english(luc_nam: Alert) -> None:
    with smtp_server() as (inbox, port):
        EmailChannel("127.0.0.1", port, "baocao@example.vn", ["syt@example.vn"]).deliver(luc_nam)
    (mail,) = inbox.messages
    subject = str(mail["Subject"])
    assert subject == f"[baocao cảnh báo/warning] {LUC_NAM_VI} / {LUC_NAM_EN}"
    body = mail.get_content()
    assert body.index(LUC_NAM_VI) < body.index(LUC_NAM_EN)
    assert "Huyen" not in subject + body and "report report" not in subject + body


def test_a_long_subject_keeps_both_languages(catalog: Catalog) -> None:
    """A deadline summary names up to 20 units: each language is clipped, neither dropped."""
    ds = catalog.get("district-daily")
    assert ds is not None
    names = [f"Huyện Số {n}" for n in range(30)]
    total = Partial("district-daily", DAY, 0, expected=40, missing=[str(n) for n in range(30)])
    alert = messages.summary_deadline(ds, total, names, DEADLINE, "summary:x")
    with smtp_server() as (inbox, port):
        EmailChannel("127.0.0.1", port, "baocao@example.vn", ["bcd@example.vn"]).deliver(alert)
    subject = str(inbox.messages[0]["Subject"])
    vi, _, en = subject.partition(" / ")
    assert vi.startswith("[baocao cảnh báo/warning] 30/40 đơn vị chưa báo cáo") and vi.endswith("…")
    assert en.startswith("30 of 40 units have not reported") and en.endswith("…")
    assert len(subject) < 340


def test_log_line_is_vietnamese_first_then_english(
    luc_nam: Alert, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="sinks.notify.channels"):
        LogChannel().deliver(luc_nam)
    (record,) = caplog.records
    assert record.getMessage() == (
        f"cảnh báo/warning: {LUC_NAM_VI} / {LUC_NAM_EN} ({luc_nam.alert_id})"
    )
    assert record.unit_id == "218"  # type: ignore[attr-defined]


class Hook:
    """A webhook receiver keeping each body as sent."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                assert self.headers["X-Baocao-Signature"] == signature(b"k", body)
                outer.bodies.append(body)
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"


@pytest.fixture
def hook() -> Iterator[Hook]:
    receiver = Hook()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def test_webhook_body_carries_both_texts_vietnamese_first(luc_nam: Alert, hook: Hook) -> None:
    WebhookChannel(hook.url, b"k", retries=0).deliver(luc_nam)
    (body,) = hook.bodies
    assert "Huyện Lục Nam".encode() in body  # UTF-8 as is, no \\u escapes
    text = body.decode()
    assert text.index('"message_vi"') < text.index('"message_en"')
    sent = json.loads(body)
    assert (sent["message_vi"], sent["message_en"]) == (LUC_NAM_VI, LUC_NAM_EN)
    assert Alert.model_validate_json(body) == luc_nam  # still the alert event, unchanged
