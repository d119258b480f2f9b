"""Read back from the warehouse what the stream's ledger needs after a broker loses its data."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sinks.warehouse import Warehouse

# One row per accepted report_id (a redelivered row is read once), oldest revision first.
HISTORY_SQL = """
SELECT dataset, unit_id, report_date, toString(report_id) AS report_id, revision,
       toString(timeliness) AS timeliness, submitted_at, first_submitted_at,
       submitted_by, values_json, note, reason
FROM reports
ORDER BY dataset, unit_id, report_date, revision, report_id
LIMIT 1 BY report_id
"""


def report_history(wh: Warehouse) -> list[dict[str, Any]]:
    """Every accepted report revision, as plain JSON-able dicts."""
    rows = wh.query_dicts(HISTORY_SQL)
    for row in rows:
        row["report_date"] = row["report_date"].isoformat()
        for name in ("submitted_at", "first_submitted_at"):
            at = row[name]  # the columns are UTC; some drivers hand them back naive
            row[name] = (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()
    return rows
