"""Alert delivery on a real broker: a flaky webhook, a dead letter, e-mail via aiosmtpd."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from kafka import KafkaProducer

from baocao.broker import EmbeddedBroker, create_topics, free_port
from contract.events import Alert
from contract.settings import Settings
from contract.topics import TopicSpec
from sinks.notify.channels import signature
from sinks.notify.service import Notifier
from tests.support.deadlines import DAY, DS, at

pytestmark = pytest.mark.integration
SECRET = b"s3cret"


def alert(
    unit: str, kind: str = "missing", severity: str = "warning", province: str = "19"
) -> Alert:
    return Alert.model_validate(
        {
            "alert_id": f"{kind}:{DS}:{unit}:{DAY}",
            "kind": kind,
            "severity": severity,
            "dataset": DS,
            "unit_id": unit,
            "report_date": DAY,
            "raised_at": at(15),
            "message_vi": f"{unit} chưa báo cáo",
            "message_en": f"{unit} has not reported",
            "details": {"province_id": province},
        }
    )


class Receiver:
    """A webhook endpoint that fails its first ``fail`` calls with HTTP 500."""

    def __init__(self, fail: int) -> None:
        self.fail, self.calls, self.ok = fail, 0, Counter[str]()
        self.bad_signatures = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.calls += 1
                if outer.calls <= outer.fail:
                    self.send_response(500)
                    self.end_headers()
                    return
                if self.headers["X-Baocao-Signature"] != signature(SECRET, body):
                    outer.bad_signatures += 1
                outer.ok[json.loads(body)["alert_id"]] += 1
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"


def publish(broker: EmbeddedBroker, topic: str, alerts: list[Alert | bytes]) -> None:
    create_topics(broker.bootstrap, [TopicSpec(topic, 2)])
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    for a in alerts:
        if isinstance(a, bytes):  # not an alert at all
            producer.send(topic, key=b"164", value=a)
        else:
            producer.send(topic, key=a.unit_id.encode(), value=a.to_json())
    producer.flush()
    producer.close()


def start(notifier: Notifier, topic: str, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=notifier.run, args=(stop, topic), daemon=True)
    thread.start()
    return thread


def test_flaky_webhook_gets_every_alert_exactly_once(
    broker: EmbeddedBroker, unique: str, tmp_path: Path
) -> None:
    receiver = Receiver(fail=4)
    settings = Settings(
        broker=broker.bootstrap,
        notify_webhook_url=receiver.url,
        notify_webhook_secret=SECRET.decode(),  # type: ignore[arg-type]
        notify_routes=[{"channel": "webhook"}],
        notify_retries=5,
        notify_backoff_seconds=0.01,
        notify_dead_letter_path=tmp_path / "dead.jsonl",
    )
    alerts = [alert(u) for u in ("164", "165", "166")]
    # A repeat, and two messages that are not alerts between them: skipped, not fatal.
    garbage = [b"not json", b'{"schema": "baocao.alert/v9", "alert_id": "x"}']
    notifier = Notifier(settings)
    publish(broker, f"alerts-{unique}", [alerts[0], *garbage, *alerts[1:], alerts[0]])
    stop = threading.Event()
    thread = start(notifier, f"alerts-{unique}", stop)
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end and sum(receiver.ok.values()) < 3:
            time.sleep(0.2)
        time.sleep(1)
    finally:
        stop.set()
        thread.join(10)
        receiver.server.shutdown()
    assert receiver.ok == Counter({a.alert_id: 1 for a in alerts})
    assert receiver.calls == 4 + 3 and receiver.bad_signatures == 0
    assert not (tmp_path / "dead.jsonl").exists()
    assert notifier.malformed == len(garbage)


def test_webhook_that_keeps_failing_dead_letters(tmp_path: Path) -> None:
    receiver = Receiver(fail=1000)
    settings = Settings(
        notify_webhook_url=receiver.url,
        notify_routes=[{"channel": "webhook"}],
        notify_retries=2,
        notify_backoff_seconds=0.01,
        notify_dead_letter_path=tmp_path / "dead.jsonl",
    )
    Notifier(settings).handle(alert("166"))
    receiver.server.shutdown()
    (record,) = [json.loads(line) for line in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert receiver.calls == 3 and record["channel"] == "webhook"
    assert record["alert"]["alert_id"] == f"missing:{DS}:166:{DAY}"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


def test_email_goes_only_where_the_routes_say(tmp_path: Path) -> None:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings = Settings(
            notify_smtp_host="127.0.0.1",
            notify_smtp_port=controller.port,
            notify_smtp_to=["sytthainguyen@example.vn"],
            notify_routes=[
                {
                    "channel": "email",
                    "kinds": ["missing"],
                    "min_severity": "critical",
                    "provinces": ["19"],
                },
                {"channel": "log"},
            ],
            notify_dead_letter_path=tmp_path / "dead.jsonl",
        )
        notifier = Notifier(settings)
        notifier.handle(alert("165", severity="critical"))
        notifier.handle(alert("165", severity="critical"))  # a repeat: no second e-mail
        notifier.handle(alert("166", severity="warning"))  # below the route's severity
        notifier.handle(alert("CP-20-01", severity="critical", province="20"))  # elsewhere
        notifier.handle(alert("164", kind="late", severity="critical"))  # another kind
    finally:
        controller.stop()
    (raw,) = inbox.messages
    mail = message_from_bytes(raw)
    assert mail["X-Baocao-Alert-Id"] == f"missing:{DS}:165:{DAY}"
    assert "165 chưa báo cáo" in mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
