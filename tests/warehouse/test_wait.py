"""The first warehouse connection waits for a ClickHouse server that is still starting.

A stand-in server (chDB behind ClickHouse's HTTP interface, tests/support/clickhouse_standin.py)
opens its port seconds after `baocao init` starts, as clickhouse-server does on a first
boot; other tests use a port nobody opens and a server that answers with a refusal.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest
from click.testing import CliRunner

from baocao.cli import main
from contract.settings import Settings
from warehouse import schema
from warehouse.errors import WarehouseUnavailable
from warehouse.wait import open_when_ready

ROOT = Path(__file__).resolve().parents[2]
LATE = 3.0  # seconds before the stand-in's port opens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def http_settings(port: int, wait: float) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        warehouse="http",
        clickhouse_url=f"http://127.0.0.1:{port}",
        warehouse_wait_seconds=wait,
    )


@pytest.fixture
def late_server(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    standin = [sys.executable, "-m", "tests.support.clickhouse_standin"]
    proc = subprocess.Popen([*standin, str(port), str(LATE), str(tmp_path)], cwd=ROOT)
    yield port
    proc.kill()
    proc.wait(timeout=10)


def test_init_waits_for_a_server_whose_port_opens_late(late_server: int) -> None:
    started = time.monotonic()
    result = CliRunner().invoke(
        main,
        ["init"],
        env={
            "BAOCAO_WAREHOUSE": "http",
            "BAOCAO_CLICKHOUSE_URL": f"http://127.0.0.1:{late_server}",
            "BAOCAO_WAREHOUSE_WAIT_SECONDS": "60",
            "BAOCAO_DATABASE": "late",
            "BAOCAO_CLICKHOUSE_CLUSTER": "",
            "BAOCAO_GRAFANA_URL": "",
            "BAOCAO_GRAFANA_TOKEN": "",
        },
    )
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= LATE
    where = f"http://127.0.0.1:{late_server}"
    assert f"ClickHouse tại {where} chưa trả lời (lần 1)" in result.output
    assert f"the ClickHouse server at {where} is not answering yet" in result.output
    assert "Connection refused" in result.output  # why, in a few words
    assert "warehouse `late`" in result.output and "ready" in result.output
    client = clickhouse_connect.get_client(host="127.0.0.1", port=late_server)
    tables = client.query("SELECT name FROM system.tables WHERE database = 'late'")
    assert set(schema.TABLES) <= {name for (name,) in tables.result_rows}


def test_a_server_that_never_answers_is_given_up_at_the_deadline() -> None:
    said: list[str] = []
    started = time.monotonic()
    with pytest.raises(WarehouseUnavailable) as err:
        open_when_ready(http_settings(free_port(), 2.0), said.append)
    took = time.monotonic() - started
    assert 2.0 <= took < 6.0, took
    assert len(said) >= 2, "a line per attempt while waiting"
    message = str(err.value)
    assert "không trả lời sau 2 s" in message and "did not answer within 2 s" in message
    assert "BAOCAO_WAREHOUSE_WAIT_SECONDS" in message and "Connection refused" in message


class Refusing(BaseHTTPRequestHandler):
    """Answers every query as ClickHouse answers a wrong password."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"Code: 516. DB::Exception: baocao: Authentication failed. (AUTHENTICATION_FAILED)"
        self.send_response(516)
        self.send_header("X-ClickHouse-Exception-Code", "516")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_server_that_answers_with_a_refusal_is_not_retried() -> None:
    server = HTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    said: list[str] = []
    started = time.monotonic()
    try:
        with pytest.raises(WarehouseUnavailable, match="Authentication failed"):
            open_when_ready(http_settings(server.server_address[1], 60.0), said.append)
    finally:
        server.shutdown()
    assert time.monotonic() - started < 5.0 and said == []


def test_no_wait_means_one_attempt_and_the_drivers_own_error() -> None:
    said: list[str] = []
    with pytest.raises(WarehouseUnavailable, match="cannot open the warehouse"):
        open_when_ready(http_settings(free_port(), 0.0), said.append)
    assert said == []
