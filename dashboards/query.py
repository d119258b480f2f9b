"""Run a dashboard's panels against the warehouse and return JSON-ready results."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dashboards.macros import TimeRange, check_variables, expand
from dashboards.model import Dashboard, Panel
from warehouse.client import Warehouse


def _plain(value: Any) -> Any:
    """Return a value JSON can carry (dates as ISO text, NaN as null)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _plain_column(values: Sequence[Any]) -> list[Any]:
    """Return a column's values as JSON can carry them, converting by the column's type."""
    sample = next((v for v in values if v is not None), None)
    if sample is None or isinstance(sample, str | int):  # bool is an int: as is
        return list(values)
    if isinstance(sample, datetime | date):  # few distinct days: format each once
        text = {v: v.isoformat() for v in set(values) if v is not None}
        return [text.get(v) for v in values]
    return [_plain(v) for v in values]


def run_panel(
    wh: Warehouse, panel: Panel, values: Mapping[str, str], period: TimeRange
) -> dict[str, Any]:
    """Return ``{"columns": [...], "rows": [(...), ...]}`` for one panel (JSON-ready)."""
    sql, params = expand(panel.sql, values, period)
    columns, data = wh.query_columns(sql, params)
    # Tuples: JSON writes them as arrays, and zip already built them; a year's grid has
    # tens of thousands of rows, and a dict per cell was most of the panel's time
    # (bench/queries.py).
    rows = list(zip(*(_plain_column(column) for column in data), strict=True))
    return {"columns": columns, "rows": rows}


def run_dashboard(
    wh: Warehouse, dashboard: Dashboard, values: Mapping[str, str], period: TimeRange
) -> dict[str, Any]:
    """Return every panel's result keyed by panel key, plus the "data as of" text."""
    check_variables(values)  # refuse bad input before any SQL runs
    panels = {p.key: run_panel(wh, p, values, period) for p in dashboard.panels}
    rows = panels["as_of"]["rows"]
    return {
        "uid": dashboard.uid,
        "as_of": rows[0][0] if rows and rows[0][0] else None,
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "panels": panels,
    }


def variable_choices(
    wh: Warehouse, dashboard: Dashboard, values: Mapping[str, str]
) -> dict[str, list[tuple[str, str]]]:
    """Return ``(value, text)`` for each choice of each dashboard variable.

    As Grafana reads a variable's query: the ``__value`` and ``__text`` columns when
    there are (a unit's code, and its name with the code), else the first column as
    both. Later variables may depend on earlier ones.
    """
    period = TimeRange(date.today(), date.today())  # variable queries use no time macros
    out: dict[str, list[tuple[str, str]]] = {}
    for var in dashboard.variables:
        sql, params = expand(var.query, values, period)
        columns, data = wh.query_columns(sql, params)
        if not data:  # no rows: some drivers return no columns either
            out[var.name] = []
            continue
        value = data[columns.index("__value")] if "__value" in columns else data[0]
        text = data[columns.index("__text")] if "__text" in columns else value
        out[var.name] = [(str(v), str(t)) for v, t in zip(value, text, strict=True)]
    return out


def variable_options(
    wh: Warehouse, dashboard: Dashboard, values: Mapping[str, str]
) -> dict[str, list[str]]:
    """Return the values of each dashboard variable's choices (``variable_choices``)."""
    choices = variable_choices(wh, dashboard, values)
    return {name: [value for value, _ in found] for name, found in choices.items()}
