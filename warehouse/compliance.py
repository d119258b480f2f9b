"""Reporting compliance for one day: who reported on time, late or not at all, and the rates.

Read only from the warehouse's compliance views, so `baocao compliance`, the service's
``/api/compliance`` and any dashboard agree. ``handle`` plugs into the warehouse
service the way the dashboard viewer does.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

from warehouse.client import Warehouse

Response = tuple[int, str, bytes]
STATUS_TEXT = {
    "on_time": ("đúng hạn", "on time"),
    "late": ("muộn", "late"),
    "missing": ("chưa báo cáo", "not reported"),
}


def compliance(
    wh: Warehouse, day: date, province: str | None = None, dataset: str | None = None
) -> dict[str, Any]:
    """Units by status and the rates per province and district, as plain JSON values."""
    where = "report_date = {day:Date}"
    params: dict[str, Any] = {"day": day}
    if province:
        where += " AND province_id = {province:String}"
        params["province"] = province
    if dataset:
        where += " AND dataset = {dataset:String}"
        params["dataset"] = dataset
    units = wh.query_dicts(
        "SELECT dataset, unit_id, name, province_id, district_id, status, first_submitted_at "
        f"FROM compliance_units WHERE {where} ORDER BY dataset, status, unit_id",
        params,
    )
    rollups: dict[str, list[dict[str, Any]]] = {}
    for level in ("province", "district"):
        area_where = where.replace("province_id =", "province =")
        # each area with its name from the registry ('' when it has none there)
        rollups[level] = wh.query_dicts(
            "SELECT r.dataset AS dataset, r.area AS area, u.name AS name, "
            "r.expected AS expected, r.received AS received, r.on_time AS on_time, "
            "r.late AS late, r.missing AS missing, r.reporting_rate AS reporting_rate, "
            "r.timeliness_rate AS timeliness_rate FROM ("
            f"SELECT dataset, {level}_id AS area, expected, received, on_time, late, missing, "
            "round(reporting_rate, 4) AS reporting_rate, "
            "round(timeliness_rate, 4) AS timeliness_rate "
            f"FROM compliance_{level}s WHERE {area_where}) AS r "
            "LEFT JOIN (SELECT unit_id, name FROM units_current) AS u ON u.unit_id = r.area "
            "ORDER BY dataset, area",
            params,
        )
    for u in units:
        at = u["first_submitted_at"]
        u["first_submitted_at"] = at.isoformat() if at is not None else None
    return {"date": day.isoformat(), "units": units, **rollups}


def area_text(row: dict[str, Any]) -> str:
    """An area as people know it, with its code: "Huyện Lục Nam (218)"."""
    return f"{row['name']} ({row['area']})" if row.get("name") else str(row["area"])


def handle(target: str, wh: Warehouse) -> Response | None:
    """Answer ``GET /api/compliance?date=…[&province=…][&dataset=…]``; None for other paths."""
    parts = urlsplit(target)
    if parts.path.rstrip("/") != "/api/compliance":
        return None
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    try:
        day = date.fromisoformat(query.get("date", ""))
    except ValueError:
        body = {"error": "tham số date phải là YYYY-MM-DD / date must be YYYY-MM-DD"}
        return 400, "application/json", json.dumps(body, ensure_ascii=False).encode()
    data = compliance(wh, day, query.get("province"), query.get("dataset"))
    return 200, "application/json", json.dumps(data, default=str, ensure_ascii=False).encode()


def render(data: dict[str, Any]) -> str:
    """The report as text for the terminal, in Vietnamese and English."""
    lines = [f"Tình hình báo cáo / reporting compliance — {data['date']}"]
    for level, vi, en in (("province", "Tỉnh", "province"), ("district", "Huyện", "district")):
        lines.append(f"\n{vi} / {en}:")
        width = max([len("area"), *(len(area_text(r)) for r in data[level])])
        lines.append(
            f"  dataset            {'area':<{width}} expected received on_time late missing"
            "  rate  timely"
        )
        for r in data[level]:
            lines.append(
                f"  {r['dataset']:<18} {area_text(r):<{width}} {r['expected']:>8} "
                f"{r['received']:>8} {r['on_time']:>7} {r['late']:>4} {r['missing']:>7} "
                f"{r['reporting_rate']:>5.0%} {r['timeliness_rate']:>7.0%}"
            )
    for status, (vi, en) in STATUS_TEXT.items():
        units = [u for u in data["units"] if u["status"] == status]
        lines.append(f"\n{vi.capitalize()} / {en} ({len(units)}):")
        lines += [f"  {u['dataset']:<18} {u['unit_id']:<8} {u['name']}" for u in units]
    return "\n".join(lines)
