"""The built-in viewer's charts as Plotly figures: ``{"data": [...], "layout": {...}}``.

Built here rather than in the browser, so what a chart shows is read from its JSON in
tests (tests/dashboards/test_figures.py); ``viewer.js`` hands each figure to Plotly as is.
Every figure is built in Vietnamese and in English: the page switches without a request.

- ``timeseries`` and ``bar``: the first column is the x axis, every other one a series;
  a panel's ``right_axis`` series get an axis of their own on the right (a rate beside
  counts would otherwise lie flat at 0).
- ``map``: points at their longitude and latitude, drawn as a map reads: one kilometre
  as long across as up (``scaleanchor`` with the latitude's ratio), no numeric axes,
  each point named. Sized by ``value`` (area in proportion) with a size key under the
  map; or, with ``bands``, one symbol and colour per band and a legend naming them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from dashboards.labels import LABELS
from dashboards.model import Band, Bands, Dashboard, Panel

Lang = Literal["vi", "en"]
LANGS: tuple[Lang, ...] = ("vi", "en")
#: Panel kinds drawn as a Plotly chart (the others are stats, tables and grids).
CHARTS = ("timeseries", "bar", "map")
Row = Sequence[Any]
Figure = dict[str, Any]

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ONE_DAY_MS = 86_400_000
#: Diameters (px) of the smallest and the largest point of a sized map.
SIZE_MIN, SIZE_MAX = 8.0, 44.0
#: Share of a sized map's plot height kept under it for the size key (~70 px).
KEY_HEIGHT = 0.15
MAP_HEIGHT = 480
POINT_COLOUR, POINT_EDGE = "#d1495b", "#7a1f2b"
_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x")


def text(vi: str, en: str, lang: Lang) -> str:
    return en if lang == "en" else vi


def label(column: str, lang: Lang) -> str:
    """A column's name in ``lang`` (the column's own name when it has none)."""
    vi, en = LABELS.get(column, (column, column))
    return text(vi, en, lang)


def figure(panel: Panel, columns: list[str], rows: Sequence[Row], lang: Lang) -> Figure:
    """The Plotly figure of a chart panel's result, in ``lang``."""
    if panel.kind not in CHARTS:
        raise ValueError(f"{panel.key}: a {panel.kind} panel is not a chart")
    if not rows:  # the warehouse may send no columns either
        return _empty(lang)
    if panel.kind == "map":
        if panel.bands is not None:
            return _band_map(panel.bands, columns, rows, lang)
        return _sized_map(columns, rows, lang)
    return _series(panel, columns, rows, lang)


def _empty(lang: Lang) -> Figure:
    """No rows: blank axes and a note saying so."""
    note = {
        "text": text("Không có số liệu trong kỳ", "No data in the period", lang),
        "xref": "paper",
        "yref": "paper",
        "x": 0.5,
        "y": 0.5,
        "showarrow": False,
    }
    hidden = {"visible": False}
    return {
        "data": [],
        "layout": {"xaxis": hidden, "yaxis": dict(hidden), "annotations": [note]},
    }


def figures(panel: Panel, result: Mapping[str, Any]) -> dict[Lang, Figure]:
    """The panel's figure in each language."""
    return {lang: figure(panel, result["columns"], result["rows"], lang) for lang in LANGS}


def with_figures(dashboard: Dashboard, data: dict[str, Any]) -> dict[str, Any]:
    """Add ``figure`` ({"vi": ..., "en": ...}) to each chart panel of ``run_dashboard``'s data."""
    for panel in dashboard.panels:
        result = data["panels"].get(panel.key)
        if panel.kind in CHARTS and result is not None:
            result["figure"] = figures(panel, result)
    return data


# ---------------------------------------------------------------- series


def _series(panel: Panel, columns: list[str], rows: Sequence[Row], lang: Lang) -> Figure:
    x = [r[0] for r in rows]
    layout: dict[str, Any] = {
        "margin": {"l": 48, "r": 56 if panel.right_axis else 10, "t": 10, "b": 40},
        "legend": {"orientation": "h"},
        "autosize": True,
        "yaxis": {"rangemode": "tozero", **_unit_ticks(panel.unit)},
    }
    if x and isinstance(x[0], str) and _DAY.match(x[0]):
        layout["xaxis"] = {"type": "date", "tickformat": "%d/%m"}
        if len(set(x)) <= 10:  # over a few days Plotly ticks every 12 hours, dates twice
            layout["xaxis"]["dtick"] = _ONE_DAY_MS
    traces = []
    for i, column in enumerate(columns[1:], start=1):
        trace: dict[str, Any] = {
            "type": "bar" if panel.kind == "bar" else "scatter",
            "mode": "lines+markers",
            "name": label(column, lang),
            "x": x,
            "y": [r[i] for r in rows],
        }
        if column in panel.right_axis:
            trace["yaxis"] = "y2"
            if panel.kind != "bar":  # told from the counts by its dashes too, not colour alone
                trace["line"] = {"dash": "dot"}
        traces.append(trace)
    right = [c for c in columns[1:] if c in panel.right_axis]
    if right:
        layout["yaxis2"] = {
            "title": {"text": " · ".join(label(c, lang) for c in right)},
            "overlaying": "y",
            "side": "right",
            "automargin": True,  # room for the title, whatever the width
            "rangemode": "tozero",
            "showgrid": False,
            "tickmode": "auto",  # round ticks of its own, not the left axis's lines
            "nticks": 6,
            **_unit_ticks(panel.right_unit),
        }
    return {"data": traces, "layout": layout}


def _unit_ticks(unit: str) -> dict[str, Any]:
    return {"ticksuffix": "%"} if unit == "percent" else {}


# ---------------------------------------------------------------- maps


def _columns(columns: list[str], *names: str) -> list[int]:
    return [columns.index(n) for n in names]


def _placed(rows: Sequence[Row], la: int, lo: int) -> list[Row]:
    return [r for r in rows if r[la] is not None and r[lo] is not None]


def _map_axes(rows: Sequence[Row], la: int, lo: int) -> dict[str, Any]:
    """Hidden axes at one scale: a degree of latitude drawn 1/cos(latitude) times as long
    as one of longitude, as on the ground (an equirectangular map of the area)."""
    lats, lons = [float(r[la]) for r in rows], [float(r[lo]) for r in rows]
    hidden = {"visible": False, "showgrid": False, "zeroline": False, "fixedrange": True}
    if not lats:
        return {"xaxis": dict(hidden), "yaxis": {**hidden, "scaleanchor": "x"}}
    mid = (min(lats) + max(lats)) / 2
    pad_x = max(0.04, (max(lons) - min(lons)) * 0.12)
    pad_y = max(0.04, (max(lats) - min(lats)) * 0.12)
    return {
        "xaxis": {**hidden, "range": [min(lons) - pad_x, max(lons) + pad_x], "constrain": "domain"},
        "yaxis": {
            **hidden,
            "range": [min(lats) - pad_y, max(lats) + pad_y],
            "scaleanchor": "x",
            "scaleratio": round(1 / math.cos(math.radians(mid)), 4),
            "constrain": "domain",
        },
    }


def point_size(value: float | None, top: float) -> float:
    """A point's diameter: its area in proportion to ``value`` (the largest is SIZE_MAX)."""
    if not value or top <= 0:
        return SIZE_MIN
    return round(SIZE_MIN + (SIZE_MAX - SIZE_MIN) * math.sqrt(value / top), 1)


def key_values(top: float) -> list[int]:
    """Up to three round values to show in the size key, the largest one included."""
    if top <= 0:
        return []
    biggest = math.ceil(top)
    if biggest <= 3:
        return list(range(1, biggest + 1))
    return sorted({_round(top / 10), _round(top / 2), biggest} - {0})


def _round(value: float) -> int:
    """``value`` to one significant digit, half up: 4.5 -> 5, 68.5 -> 70."""
    if value < 1:
        return 1
    scale = 10 ** math.floor(math.log10(value))
    return int(math.floor(value / scale + 0.5) * scale)


def _sized_map(columns: list[str], rows: Sequence[Row], lang: Lang) -> Figure:
    la, lo, na, va = _columns(columns, "lat", "lon", "name", "value")
    placed = _placed(rows, la, lo)
    top = max((float(r[va]) for r in placed if r[va] is not None), default=0.0)
    what = label("value", lang)
    layout: dict[str, Any] = {
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "height": MAP_HEIGHT,
        "autosize": True,
        "showlegend": False,
        "hovermode": "closest",
        **_map_axes(placed, la, lo),
    }
    layout["yaxis"]["domain"] = [KEY_HEIGHT, 1]
    points = {
        "type": "scatter",
        "mode": "markers+text",
        "name": what,
        "x": [r[lo] for r in placed],
        "y": [r[la] for r in placed],
        "text": [r[na] for r in placed],
        "textposition": "top center",
        "cliponaxis": False,
        "hovertext": [f"{r[na]}: {_count(r[va])} {what.lower()}" for r in placed],
        "hoverinfo": "text",
        "marker": {
            "size": [point_size(r[va], top) for r in placed],
            "color": POINT_COLOUR,
            "opacity": 0.75,
            "line": {"width": 1, "color": POINT_EDGE},
        },
    }
    keys = key_values(top)
    layout["shapes"], layout["annotations"] = _size_key(keys, top, what, lang)
    return {"data": [points], "layout": layout}


def _size_key(
    keys: list[int], top: float, what: str, lang: Lang
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The size key under a sized map: circles as large as the map's points for ``keys``.

    Laid out in pixels from the plot's bottom-left corner (shapes sized in pixels,
    labels shifted in pixels), so it reads the same on a phone and on a laptop.
    """
    title = text(f"Cỡ chấm = {what.lower()}", f"Dot size = {what.lower()}", lang)
    if not keys:
        title = text(f"Không có {what.lower()} trong kỳ", f"No {what.lower()} in the period", lang)
    corner = {"xref": "paper", "yref": "paper"}
    annotations: list[dict[str, Any]] = [
        {
            **corner,
            "text": title,
            "x": 0,
            "y": KEY_HEIGHT,
            "xanchor": "left",
            "yanchor": "top",
            "showarrow": False,
        }
    ]
    shapes: list[dict[str, Any]] = []
    middle, left = SIZE_MAX / 2 + 2, 4.0
    for value in keys:
        size = point_size(value, top)
        shapes.append(
            {
                **corner,
                "type": "circle",
                "xsizemode": "pixel",
                "ysizemode": "pixel",
                "xanchor": 0,
                "yanchor": 0,
                "x0": left,
                "x1": left + size,
                "y0": middle - size / 2,
                "y1": middle + size / 2,
                "fillcolor": POINT_COLOUR,
                "opacity": 0.75,
                "line": {"width": 1, "color": POINT_EDGE},
            }
        )
        shown = f"{value:,}".replace(",", "." if lang == "vi" else ",")
        annotations.append(
            {
                **corner,
                "text": shown,
                "x": 0,
                "y": 0,
                "xshift": left + size + 4,
                "yshift": middle,
                "xanchor": "left",
                "yanchor": "middle",
                "showarrow": False,
            }
        )
        left += size + 16 + 8 * len(shown)
    return shapes, annotations


def _count(value: Any) -> str:
    return "–" if value is None else str(value)


def _band_of(bands: Bands, value: Any) -> Band:
    if value is None or value == "":
        return bands.missing
    return next((b for b in bands.values if b.value == str(value)), bands.missing)


def _band_map(bands: Bands, columns: list[str], rows: Sequence[Row], lang: Lang) -> Figure:
    """One trace per band, each with its own symbol and name: the legend reads without colour."""
    la, lo, na, bi = _columns(columns, "lat", "lon", "name", bands.column)
    placed = _placed(rows, la, lo)
    traces = []
    for i, band in enumerate((*bands.values, bands.missing)):
        name = text(band.name_vi, band.name_en, lang)
        mine = [r for r in placed if _band_of(bands, r[bi]) is band]
        shown = "–" if band is bands.missing else band.value
        traces.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "name": name,
                # an empty band keeps its legend entry: one point with no place
                "x": [r[lo] for r in mine] or [None],
                "y": [r[la] for r in mine] or [None],
                "text": [f"{r[na]} · {shown}" for r in mine],
                "textposition": "top center",
                "cliponaxis": False,
                "hovertext": [f"{r[na]}: {name}" for r in mine],
                "hoverinfo": "text",
                "marker": {
                    "size": 14,
                    "color": band.colour,
                    "symbol": _SYMBOLS[i % len(_SYMBOLS)],
                    "line": {"width": 1, "color": "#1d2733"},
                },
            }
        )
    layout = {
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "height": MAP_HEIGHT,
        "autosize": True,
        "hovermode": "closest",
        "legend": {"orientation": "h", "y": 0, "yanchor": "top"},
        **_map_axes(placed, la, lo),
    }
    return {"data": traces, "layout": layout}
