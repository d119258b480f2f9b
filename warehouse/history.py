"""Read back from the warehouse what the stream's tables need after a broker loses its data."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from warehouse.client import Warehouse

# One row per accepted report_id (a redelivered row is read once), oldest revision first.
HISTORY_SQL = """
SELECT dataset, unit_id, report_date, toString(report_id) AS report_id, revision,
       toString(timeliness) AS timeliness, submitted_at, first_submitted_at,
       submitted_by, values_json, note, reason
FROM reports
WHERE {every:Bool} OR unit_id IN {units:Array(String)}
ORDER BY dataset, unit_id, report_date, revision, report_id
LIMIT 1 BY report_id
"""


def report_history(wh: Warehouse, units: list[str] | None = None) -> list[dict[str, Any]]:
    """Every accepted report revision (of ``units`` only, unless None), as JSON-able dicts."""
    rows = wh.query_dicts(HISTORY_SQL, _only(units))
    return _as_json(rows, ("submitted_at", "first_submitted_at"))


def _only(units: list[str] | None) -> dict[str, Any]:
    """The bound filter of a history query: every unit, or the listed ones."""
    return {"every": units is None, "units": units or []}


def _as_json(rows: list[dict[str, Any]], instants: tuple[str, ...]) -> list[dict[str, Any]]:
    """Dates and UTC instants as ISO text, in place."""
    for row in rows:
        row["report_date"] = row["report_date"].isoformat()
        for name in instants:
            at = row[name]  # the columns are UTC; some drivers hand them back naive
            row[name] = (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()
    return rows


# Alerts already raised, one row per alert_id (the table may hold a redelivered copy). A
# signal's text comes along: a withdrawal after a restart repeats what it takes back.
ALERTS_SQL = """
SELECT alert_id, kind, dataset, unit_id, report_date, raised_at, details,
       if(kind = 'anomaly', message_vi, '') AS message_vi,
       if(kind = 'anomaly', message_en, '') AS message_en
FROM alerts
WHERE {every:Bool} OR unit_id IN {units:Array(String)}
ORDER BY alert_id
LIMIT 1 BY alert_id
"""


def alert_history(wh: Warehouse, units: list[str] | None = None) -> list[dict[str, Any]]:
    """Every alert ever raised (about ``units`` only, unless None), as JSON-able dicts
    (details stays a JSON string)."""
    return _as_json(wh.query_dicts(ALERTS_SQL, _only(units)), ("raised_at",))
