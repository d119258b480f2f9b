"""``GET /api/dhis2/values``: what ``baocao dhis2 export`` reads, from the warehouse service.

chDB opens its data directory from one process, so while the service runs the export
asks it (``baocao.warehouse_client.ask``). The path is on the operator's surface
(baocao/access.py: an unknown /api path is the operator's): loopback or the service token.
"""

from __future__ import annotations

from datetime import date

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from baocao.dhis2.export import MAX_DAYS, latest_reports
from warehouse.client import Warehouse

PATH = "/api/dhis2/values"


def parse_span(start: str, end: str) -> tuple[date, date]:
    """The [from, to] days of an export; ValueError with a bilingual message."""
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise ValueError(
            f"ngày không hợp lệ {start!r}..{end!r}, cần YYYY-MM-DD / invalid dates"
            f" {start!r}..{end!r}, need YYYY-MM-DD"
        ) from None
    if last < first:
        raise ValueError(f"--to {last} trước --from {first} / --to {last} is before --from {first}")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValueError(
            f"tối đa {MAX_DAYS} ngày mỗi lần xuất / at most {MAX_DAYS} days per export"
        )
    return first, last


def add_routes(app: FastAPI, wh: Warehouse) -> None:
    """Serve the export's read on the warehouse service's app."""

    @app.get(PATH, include_in_schema=False)
    def dhis2_values(request: Request) -> JSONResponse:
        q = request.query_params
        try:
            first, last = parse_span(q.get("from", ""), q.get("to", ""))
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse(latest_reports(wh, q.get("dataset", ""), first, last))
