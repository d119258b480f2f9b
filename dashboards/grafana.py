"""Generate Grafana dashboard JSON (ClickHouse plugin targets) from the definitions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dashboards.catalog import DASHBOARDS
from dashboards.common import TZ
from dashboards.labels import LABELS, STATUS_MARKS
from dashboards.model import DATASOURCE_TYPE, DATASOURCE_UID, Bands, Dashboard, Panel, Variable

SCHEMA_VERSION = 39
DATASOURCE = {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID}
OUT_DIR = Path(__file__).parent
_TYPES = {
    "timeseries": "timeseries",
    "stat": "stat",
    "table": "table",
    "bar": "barchart",
    "map": "geomap",
    "grid": "table",
}
_STATUS_COLOURS = {"on_time": "green", "late": "orange", "missing": "red", "pending": "blue"}


def status_text(status: str) -> str:
    """A compliance status as a grid cell shows it: "T Trễ hạn / Late"."""
    vi, en = LABELS[status]
    return f"{STATUS_MARKS[status]} {vi} / {en}"


def target(sql: str, time_series: bool = False) -> dict[str, Any]:
    """Return a target in the plugin's format: format 0 = time series, 1 = table."""
    return {
        "refId": "A",
        "datasource": DATASOURCE,
        "editorType": "sql",
        "format": 0 if time_series else 1,
        "queryType": "timeseries" if time_series else "table",
        "rawSql": sql,
    }


def _options(panel: Panel) -> dict[str, Any]:
    if panel.kind == "stat":
        reduce = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}
        return {**reduce, "colorMode": "background"} if panel.bands else reduce
    if panel.kind == "map" and panel.bands:
        return _band_map(panel.bands)
    if panel.kind == "map":
        return {
            "view": {"id": "fit", "lat": 21.5, "lon": 105.8, "zoom": 8},
            "layers": [
                {
                    "type": "markers",
                    "name": "cases",
                    "location": {"mode": "coords", "latitude": "lat", "longitude": "lon"},
                    "config": {"size": {"field": "value", "min": 4, "max": 30}},
                }
            ],
        }
    return {}


def _band_map(bands: Bands) -> dict[str, Any]:
    """Points coloured by their band, each labelled with its name and band (``label``)."""
    style = {
        "color": {"field": bands.column, "fixed": bands.missing.colour},
        "size": {"fixed": 10},
        "symbol": {"mode": "fixed", "fixed": "img/icons/marker/circle.svg"},
        "text": {"mode": "field", "field": "label", "fixed": ""},
        "textConfig": {"fontSize": 11, "offsetY": -14, "textAlign": "center"},
    }
    return {
        "view": {"id": "fit", "lat": 21.5, "lon": 105.8, "zoom": 8},
        "layers": [
            {
                "type": "markers",
                "name": bands.column,
                "location": {"mode": "coords", "latitude": "lat", "longitude": "lon"},
                "config": {"showLegend": True, "style": style},
            }
        ],
    }


def _band_override(panel: Panel, bands: Bands) -> dict[str, Any]:
    """Name and colour each band of the banded column (a legend readable without colour)."""
    named = {
        b.value: {"color": b.colour, "text": f"{b.name_vi} / {b.name_en}", "index": i}
        for i, b in enumerate(bands.values)
    }
    missing = bands.missing
    mappings = [
        {"type": "value", "options": named},
        {
            "type": "special",
            "options": {
                "match": "null",
                "result": {
                    "color": missing.colour,
                    "text": f"{missing.name_vi} / {missing.name_en}",
                    "index": len(named),
                },
            },
        },
    ]
    properties: list[dict[str, Any]] = [{"id": "mappings", "value": mappings}]
    if panel.kind in ("table", "grid"):
        properties.append({"id": "custom.cellOptions", "value": {"type": "color-background"}})
    return {"matcher": {"id": "byName", "options": bands.column}, "properties": properties}


def _field_config(panel: Panel) -> dict[str, Any]:
    defaults: dict[str, Any] = {"unit": panel.unit}
    if panel.kind == "grid":
        # the heat-map style grid: one coloured cell per unit and day
        defaults["custom"] = {"cellOptions": {"type": "color-background"}}
        # each status shown by its mark and name, as in the viewer: not by colour alone
        defaults["mappings"] = [
            {
                "type": "value",
                "options": {
                    status: {"color": colour, "text": status_text(status), "index": i}
                    for i, (status, colour) in enumerate(_STATUS_COLOURS.items())
                },
            }
        ]
    overrides = [_band_override(panel, panel.bands)] if panel.bands else []
    overrides += [_right_axis(panel, column) for column in panel.right_axis]
    return {"defaults": defaults, "overrides": overrides}


def _right_axis(panel: Panel, column: str) -> dict[str, Any]:
    """Draw ``column`` against an axis of its own, on the right, in its own unit."""
    vi, en = LABELS.get(column, (column, column))
    return {
        "matcher": {"id": "byName", "options": column},
        "properties": [
            {"id": "custom.axisPlacement", "value": "right"},
            {"id": "unit", "value": panel.right_unit},
            {"id": "custom.axisLabel", "value": f"{vi} / {en}"},
            {"id": "min", "value": 0},
            {"id": "custom.lineStyle", "value": {"fill": "dot", "dash": [0, 10]}},
        ],
    }


def panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    """Return one Grafana panel."""
    return {
        "id": panel_id,
        "type": _TYPES[panel.kind],
        "title": f"{panel.title_vi} / {panel.title_en}",
        "description": " / ".join(d for d in (panel.description_vi, panel.description_en) if d),
        "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": panel.width, "h": panel.height},
        "targets": [target(panel.sql, time_series=panel.kind == "timeseries")],
        "fieldConfig": _field_config(panel),
        "options": _options(panel),
    }


def variable_json(var: Variable) -> dict[str, Any]:
    """Return one query variable; "All" means '' so SQL can test for no filter."""
    current = {"text": var.default or "All", "value": var.default}
    # Grafana's schema types allValue as a string or absent (never null), and Grafana
    # itself leaves it out when a variable has no "All" option.
    all_value = {"allValue": ""} if var.include_all else {}
    return {
        "type": "query",
        "name": var.name,
        "label": f"{var.label_vi} / {var.label_en}",
        "datasource": DATASOURCE,
        "definition": var.query,
        "query": {**target(var.query), "refId": f"var-{var.name}"},
        "refresh": 1,
        "includeAll": var.include_all,
        **all_value,
        "multi": False,
        "current": current,
        "options": [],
        # 0: in the query's order (units by code); Grafana's alphabetical sort would order
        # the names' bytes, putting "Đ" after "Z".
        "sort": 0,
    }


def dashboard_json(dashboard: Dashboard) -> dict[str, Any]:
    """Return the whole Grafana dashboard, laid out left to right, top to bottom."""
    panels, x, y, row_height = [], 0, 0, 0
    for n, panel in enumerate(dashboard.panels, start=1):
        if x + panel.width > 24:
            x, y, row_height = 0, y + row_height, 0
        panels.append(panel_json(panel, n, x, y))
        x, row_height = x + panel.width, max(row_height, panel.height)
    return {
        "uid": dashboard.uid,
        "title": f"{dashboard.title_vi} — {dashboard.title_en}",
        "tags": list(dashboard.tags),
        "timezone": TZ,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": True,
        "refresh": "1m",
        "time": {"from": dashboard.time_from, "to": "now"},
        "templating": {"list": [variable_json(v) for v in dashboard.variables]},
        "annotations": {"list": []},
        "panels": panels,
    }


def render(dashboard: Dashboard) -> str:
    """Return the dashboard as stable, readable JSON text."""
    return json.dumps(dashboard_json(dashboard), ensure_ascii=False, indent=2) + "\n"


def write_all(out_dir: Path = OUT_DIR, check: bool = False) -> list[Path]:
    """Write every dashboard as <uid>.json; with ``check`` return the stale files instead."""
    stale = []
    for dashboard in DASHBOARDS:
        path, text = out_dir / f"{dashboard.uid}.json", render(dashboard)
        if check:
            if not path.exists() or path.read_text("utf-8") != text:
                stale.append(path)
        else:
            out_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            stale.append(path)
    return stale
