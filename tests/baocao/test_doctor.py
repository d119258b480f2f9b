"""`baocao doctor`: what each finding looks like, and how the checks judge what they see."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from baocao import doctor
from baocao.cli import main
from baocao.doctor import Check
from contract import topics
from contract.settings import Settings

FOUND = [
    Check("broker", "OK", "Kafka trả lời", "Kafka answers"),
    Check("worker", "FAIL", "không có worker", "no worker is running", "chạy worker", "start it"),
    Check("notifier", "WARN", "không có notifier", "no notifier", "chạy notify", "start notify"),
]


def test_render_one_line_per_check_with_what_to_do_and_a_count() -> None:
    lines = doctor.render(FOUND).splitlines()
    assert lines[0].startswith("OK    broker") and "Kafka trả lời / Kafka answers" in lines[0]
    assert lines[1].startswith("FAIL  worker") and "no worker is running" in lines[1]
    assert lines[2].strip() == "→ chạy worker / start it"
    assert lines[-1] == "1 FAIL, 1 WARN, 1 OK"


def test_exit_code_and_json() -> None:
    assert doctor.exit_code(FOUND) == 1
    assert doctor.exit_code(FOUND[:1] + FOUND[2:]) == 0  # a warning alone does not fail
    body = json.loads(doctor.to_json(FOUND))
    assert body["ok"] is False
    assert body["checks"][1] == {
        "name": "worker",
        "level": "FAIL",
        "vi": "không có worker",
        "en": "no worker is running",
        "fix_vi": "chạy worker",
        "fix_en": "start it",
    }


def test_groups_without_members_fail_except_the_optional_notifier() -> None:
    worker = doctor._group_check(topics.STREAMS_APP_ID, {"members": []}, 12)
    assert worker.level == "FAIL" and "baocao worker" in worker.fix_en and "12" in worker.en
    assert doctor._group_check(topics.SINK_GROUP, {}, 0).level == "FAIL"
    assert doctor._group_check(topics.NOTIFY_GROUP, {"members": []}, 0).level == "WARN"
    live = {"members": [{"member_id": "m1"}], "group_state": "Stable"}
    assert doctor._group_check(topics.STREAMS_APP_ID, live, 3).level == "OK"
    behind = doctor._group_check(topics.STREAMS_APP_ID, live, doctor.LAG_WARN + 1)
    assert behind.level == "WARN" and "falling behind" in behind.en


def test_production_on_plaintext_kafka_is_a_warning() -> None:
    dev = doctor.settings_check(Settings(_env_file=None))  # type: ignore[call-arg]
    assert dev.level == "OK"
    prod = doctor.settings_check(Settings(_env_file=None, profile="production"))  # type: ignore[call-arg]
    assert prod.level == "WARN" and "SASL_SSL" in prod.fix_en


def test_notifier_heartbeat_fresh_stale_or_missing(tmp_path: Path) -> None:
    beat = tmp_path / "notify.beat"
    assert doctor._heartbeat_check(beat).level == "WARN"
    beat.touch()
    assert doctor._heartbeat_check(beat).level == "OK"
    old = time.time() - 300
    os.utime(beat, (old, old))
    stale = doctor._heartbeat_check(beat)
    assert stale.level == "WARN" and "stale" in stale.en


class Service:
    """A stand-in warehouse service: chosen /readyz answer and server clock."""

    def __init__(self) -> None:
        self.ready: tuple[int, dict[str, Any]] = (200, {"ready": True, "checks": {}})
        self.skew = 0.0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                code, body = (200, {"status": "ok"}) if self.path == "/healthz" else outer.ready
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def date_time_string(self, timestamp: float | None = None) -> str:
                return formatdate(time.time() + outer.skew, usegmt=True)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]


@pytest.fixture
def service() -> Iterator[Service]:
    svc = Service()
    thread = threading.Thread(target=svc.server.serve_forever, daemon=True)
    thread.start()
    yield svc
    svc.server.shutdown()


def checks_of(svc: Service) -> dict[str, Check]:
    settings = Settings(_env_file=None, http_port=svc.port)  # type: ignore[call-arg]
    return {c.name: c for c in doctor.service_checks(settings, timeout=3)}


def test_service_ready_and_clock_in_step(service: Service) -> None:
    found = checks_of(service)
    assert (found["warehouse"].level, found["clock"].level) == ("OK", "OK")


def test_service_not_ready_fails_with_its_reasons(service: Service) -> None:
    sink = {"ok": False, "message_vi": "bộ ghi tạm dừng", "message_en": "the sink is paused"}
    service.ready = (503, {"ready": False, "checks": {"warehouse": {"ok": True}, "sink": sink}})
    found = checks_of(service)["warehouse"]
    assert found.level == "FAIL"
    assert "the sink is paused" in found.en and "bộ ghi tạm dừng" in found.vi


def test_a_skewed_clock_is_a_warning(service: Service) -> None:
    service.skew = 120
    clock = checks_of(service)["clock"]
    assert clock.level == "WARN" and "NTP" in clock.fix_en


def test_invalid_settings_are_one_plain_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAOCAO_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 1
    assert result.output.startswith("FAIL  settings")
    assert "BAOCAO_KAFKA_SASL_USERNAME" in result.output
    assert "Traceback" not in result.output
