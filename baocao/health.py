"""Operations routes of the warehouse service: /healthz, /readyz and /metrics.

/healthz answers while the process serves requests (a liveness probe: restart when it
fails). /readyz answers 200 only when the warehouse answers and the sink consumes (a
readiness probe: send no traffic, page someone). /metrics is for Prometheus.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from baocao import metrics
from baocao.status import StatusReport, broker_status
from contract.settings import Settings
from warehouse.client import Warehouse

SinkStats = Callable[[], dict[str, Any]]
BrokerProbe = Callable[[], StatusReport]

WAREHOUSE_TABLES = ("reports", "report_values", "rejections", "alerts", "units", "dead_letters")


def probe_broker(settings: Settings) -> BrokerProbe:
    def probe() -> StatusReport:
        report = StatusReport(broker=settings.broker, broker_ok=False)
        broker_status(settings, report)
        return report

    return probe


def readiness(wh: Warehouse, stats: dict[str, Any]) -> dict[str, Any]:
    """Each readiness check with ok and, when not ok, why in Vietnamese and English."""
    checks: dict[str, dict[str, Any]] = {}
    try:
        wh.check()
        checks["warehouse"] = {"ok": True}
    except Exception as exc:  # any failure to answer means not ready
        checks["warehouse"] = {
            "ok": False,
            "message_vi": f"kho dữ liệu không trả lời: {exc}",
            "message_en": f"the warehouse does not answer: {exc}",
        }
    if not stats.get("running"):
        vi, en = "bộ ghi (sink) không chạy", "the sink is not running"
    elif stats.get("paused"):
        vi, en = "bộ ghi tạm dừng vì kho dữ liệu lỗi", "the sink is paused: warehouse outage"
    elif not stats.get("rebalances"):
        vi, en = "bộ ghi chưa vào nhóm consumer", "the sink has not joined its consumer group"
    else:
        vi = en = ""
    checks["sink"] = {"ok": True} if not en else {"ok": False, "message_vi": vi, "message_en": en}
    return {"ready": all(c["ok"] for c in checks.values()), "checks": checks}


def _row_counts(wh: Warehouse) -> dict[str, int] | None:
    try:
        return {t: int(wh.query_rows(f"SELECT count() FROM {t}")[0][0]) for t in WAREHOUSE_TABLES}
    except Exception:  # reported as baocao_warehouse_up 0
        return None


def add_ops_routes(
    app: FastAPI,
    wh: Warehouse,
    sink_stats: SinkStats,
    outbox_counts: Callable[[], dict[str, int]],
    broker: BrokerProbe,
) -> None:
    """Register /healthz, /readyz and /metrics on the service's app."""

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        answer = readiness(wh, sink_stats())
        return JSONResponse(answer, 200 if answer["ready"] else 503)

    @app.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:
        families = [
            *metrics.broker_metrics(broker()),
            *metrics.sink_metrics(sink_stats()),
            *metrics.warehouse_metrics(_row_counts(wh)),
            *metrics.outbox_metrics(outbox_counts()),
        ]
        return Response(metrics.render(families), media_type=metrics.CONTENT_TYPE)
