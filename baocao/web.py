"""The warehouse service's web app: the submission API and form, status, and the viewer.

chDB allows one process per data directory, so receipts and history (warehouse reads)
must be served by the process that owns the warehouse: this module wires the producers'
API to a ``ReportLookup`` built on warehouse queries (``baocao/lookup.py``; the service
feeds the API what the sink writes, ``baocao/feed.py``), and keeps the service's existing
routes (/, /api/status, /api/ledger-history, /api/alert-history, /dashboards,
/static) on the same app.
"""

from __future__ import annotations

import html
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from baocao import access, health, security_headers, viewer
from baocao.brief_web import add_brief_routes
from baocao.context import Context
from baocao.dhis2.routes import add_routes as add_dhis2_routes
from baocao.lookup import WarehouseApprovals, WarehouseLookup
from baocao.settle import wait_settled
from baocao.signin import add_signin_routes
from baocao.status import warehouse_summary
from baocao.tokens import open_tokens, outbox_path
from producers.http.api import create_api
from producers.http.models import ApprovalPublisher, Publisher
from producers.http.outbox import Outbox
from producers.http.publish import KafkaApprovalPublisher, KafkaPublisher
from warehouse import compliance, surveillance
from warehouse.client import Warehouse
from warehouse.history import alert_history, report_history

log = logging.getLogger(__name__)


def build_app(
    ctx: Context,
    wh: Warehouse,
    sink_stats: Callable[[], dict[str, Any]],
    publisher: Publisher | None = None,
    broker: health.BrokerProbe | None = None,
    settle: Callable[[], bool] | None = None,
    approval_publisher: ApprovalPublisher | None = None,
) -> FastAPI:
    """The one app the warehouse service serves: API, form, status, dashboards, health.

    ``broker``: how /metrics reads consumer lag (default: ask the configured brokers);
    ``settle``: how the outbox's recovery waits for the pipeline (``baocao.settle``);
    ``approval_publisher``: where reviewers' decisions go (default: the ``approvals`` topic).
    """
    settings = ctx.settings
    app = create_api(
        settings,
        ctx.registry,
        ctx.catalog,
        ctx.clock,
        publisher or KafkaPublisher(settings),
        WarehouseLookup(wh),
        open_tokens(settings),
        Outbox(outbox_path(settings), settings.outbox_resend_seconds),
        settle=settle or (lambda: wait_settled(settings, settings.outbox_settle_seconds)),
        approvals=WarehouseApprovals(wh),
        approval_publisher=approval_publisher or KafkaApprovalPublisher(settings),
    )

    @app.get("/api/status", include_in_schema=False)
    def status() -> JSONResponse:
        data = warehouse_summary(wh)
        data["sink"] = sink_stats()
        data["outbox"] = outbox_counts()
        return JSONResponse(json.loads(json.dumps(data, default=str)))

    # Re-seeding an emptied broker reads everything (loopback or the service token); a
    # read token gets its units' rows only, filtered in the warehouse's SQL.
    @app.get("/api/ledger-history", include_in_schema=False)
    def ledger_history(request: Request) -> JSONResponse:
        return JSONResponse(report_history(wh, _units(request)))

    @app.get("/api/alert-history", include_in_schema=False)
    def alerts_raised(request: Request) -> JSONResponse:
        return JSONResponse(alert_history(wh, _units(request)))

    @app.get("/", include_in_schema=False)
    def home() -> HTMLResponse:
        return HTMLResponse(_home_page(warehouse_summary(wh)))

    @app.get("/api/compliance", include_in_schema=False)
    def compliance_report(request: Request) -> Response:
        answer = compliance.handle(f"/api/compliance?{request.url.query}", wh)
        assert answer is not None  # the path is always /api/compliance here
        code, ctype, body = answer
        return Response(body, code, media_type=ctype)

    @app.get("/api/levels", include_in_schema=False)
    @app.get("/api/signals", include_in_schema=False)
    def surveillance_report(request: Request) -> Response:  # `baocao levels`, `baocao signals`
        answer = surveillance.handle(f"{request.url.path}?{request.url.query}", wh)
        assert answer is not None  # the path is one of the two above
        code, ctype, body = answer
        return Response(body, code, media_type=ctype)

    def delegate(request: Request) -> Response:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        answer = viewer.handle(path, wh, ctx.clock, access.reader_of(request).scope)
        if answer is None:
            return JSONResponse(
                {
                    "error": "not found / không tìm thấy",
                    "message_vi": "Không tìm thấy.",
                    "message_en": "Not found.",
                },
                404,
            )
        code, ctype, body = answer
        return (HTMLResponse if ctype.startswith("text/html") else Response)(
            body, code, media_type=ctype
        )

    def outbox_counts() -> dict[str, int]:
        return {s: app.state.desk.outbox.count(s) for s in ("queued", "sending", "sent")}

    health.add_ops_routes(
        app, wh, sink_stats, outbox_counts, broker or health.probe_broker(settings)
    )
    add_brief_routes(app, ctx, wh)
    add_dhis2_routes(app, wh)  # `baocao dhis2 export` while the service owns chDB
    tokens = app.state.tokens
    add_signin_routes(app, settings, ctx.registry, tokens, ctx.clock)
    access.install(app, settings, ctx.registry, tokens, ctx.clock)
    app.add_api_route("/dashboards", delegate, include_in_schema=False)
    app.add_api_route("/dashboards/{rest:path}", delegate, include_in_schema=False)
    app.add_api_route("/static/{rest:path}", delegate, include_in_schema=False)
    app.add_api_route(viewer.FAVICON, delegate, include_in_schema=False)
    security_headers.install(app)
    return app


def _units(request: Request) -> list[str] | None:
    """The units a request may read rows of (None: every unit)."""
    scope = access.reader_of(request).scope
    return None if scope is None else sorted(scope.units)


def _home_page(summary: dict[str, Any]) -> str:
    """A landing page: where to submit, where to look, and what the warehouse holds."""
    rows = "".join(
        f"<tr><td>{html.escape(t)}</td><td>{n:,}</td></tr>" for t, n in summary["rows"].items()
    )
    last = html.escape(json.dumps(summary["last_report"], ensure_ascii=False))
    return (
        "<!doctype html><html lang='vi'><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>baocao</title>{viewer.ICON_LINK}"
        "<style>body{font-family:sans-serif;margin:1rem;max-width:40rem}"
        "a{display:block;margin:.4rem 0;font-size:1.1rem}td{padding:.1rem .6rem}</style>"
        "<h1>baocao</h1>"
        "<a href='/submit'>Gửi báo cáo / Submit a report</a>"
        "<a href='/dashboards'>Bảng điều khiển / Dashboards</a>"
        "<a href='/briefs'>Báo cáo nhanh hằng ngày / Daily briefs</a>"
        "<a href='/api/v1/openapi.json'>API (OpenAPI)</a>"
        "<a href='/api/status'>Trạng thái / Status (JSON)</a>"
        f"<h2>Kho dữ liệu / Warehouse</h2><table>{rows}</table>"
        f"<p>Báo cáo mới nhất / last report: {last}</p>"
    )


def runner_stats(runner: Any) -> Callable[[], dict[str, Any]]:
    """What /api/status, /readyz and /metrics report about the sink."""
    return lambda: {
        **asdict(runner.sink.stats),
        "paused": runner.paused,
        "outages": runner.outages,
        "rebalances": runner.rebalances,
        "running": runner.running,
        "pending_rows": runner.pending_rows,
    }


class WebServer:
    """Run an ASGI app with uvicorn in a thread; the caller's thread keeps the signals."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="http", daemon=True)

    def start(self, timeout: float = 15.0) -> None:
        self.thread.start()
        for _ in range(int(timeout * 20)):
            if self.server.started:
                return
            threading.Event().wait(0.05)
        raise RuntimeError("the web server did not start / máy chủ web không khởi động được")

    def stop(self, timeout: float = 15.0) -> None:
        self.server.should_exit = True  # finishes in-flight requests, then runs shutdown
        self.thread.join(timeout)
