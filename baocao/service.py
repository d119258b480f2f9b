"""The warehouse service: the one process that owns the warehouse.

chDB lets only one process open its data, so the sink and everything that reads the
warehouse (status API, web UI) run here, sharing one serialized Warehouse object.
"""

from __future__ import annotations

import html
import json
import logging
import signal
import threading
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from baocao import viewer
from baocao.context import Context
from baocao.status import warehouse_summary
from sinks import compliance
from sinks.consumer import SinkRunner
from sinks.history import report_history
from sinks.warehouse import Warehouse

log = logging.getLogger(__name__)


def _handler(wh: Warehouse, runner: SinkRunner) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            log.debug("http %s", format % args)

        def _send(self, code: int, body: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            # /dashboards and /static: the viewer; /api/compliance: reporting compliance
            answer = viewer.handle(self.path, wh) or compliance.handle(self.path, wh)
            if answer is not None:
                self._send(answer[0], answer[2], answer[1])
            elif self.path == "/api/status":
                data = warehouse_summary(wh)
                data["sink"] = {
                    **asdict(runner.sink.stats),
                    "paused": runner.paused,
                    "outages": runner.outages,
                }
                self._send(200, json.dumps(data, default=str).encode(), "application/json")
            elif self.path == "/api/ledger-history":  # for re-seeding an emptied broker
                body = json.dumps(report_history(wh)).encode()
                self._send(200, body, "application/json")
            elif self.path in ("/", "/index.html"):
                self._send(200, _page(warehouse_summary(wh)).encode(), "text/html; charset=utf-8")
            else:
                self._send(
                    404,
                    b'{"error": "not found / kh\\u00f4ng t\\u00ecm th\\u1ea5y"}',
                    "application/json",
                )

    return Handler


def _page(summary: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(t)}</td><td>{n}</td></tr>" for t, n in summary["rows"].items()
    )
    last = html.escape(json.dumps(summary["last_report"], ensure_ascii=False))
    return (
        "<!doctype html><html lang='vi'><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>baocao</title><h1>baocao — kho dữ liệu / warehouse</h1>"
        "<p><a href='/dashboards'>Bảng điều khiển / Dashboards</a></p>"
        f"<table>{rows}</table><p>Báo cáo mới nhất / last report: {last}</p>"
    )


def serve(ctx: Context) -> None:
    """Run the sink and the HTTP API until SIGTERM or SIGINT."""
    settings = ctx.settings
    wh = Warehouse.connect(settings)
    wh.ensure_schema()
    wh.load_units(ctx.registry)
    stop = threading.Event()
    runner = SinkRunner(settings, wh)
    sink_thread = threading.Thread(target=runner.run, args=(stop,), name="sink", daemon=True)
    server = ThreadingHTTPServer((settings.http_host, settings.http_port), _handler(wh, runner))
    http_thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sink_thread.start()
    http_thread.start()
    log.info("warehouse service on http://%s:%d", settings.http_host, settings.http_port)
    stop.wait()
    server.shutdown()
    sink_thread.join(timeout=30)  # the sink flushes and commits what it holds
    wh.close()
