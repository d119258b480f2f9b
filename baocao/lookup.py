"""The API's questions to the warehouse: decisions and revisions, asked in batches; reviews.

The submission path never asks per request (``producers/http/known.py``); these run
when the service starts, for a unit's history, for a receipt whose decision is not
known yet, and for the outbox's re-send checks (hundreds of ids at once).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

from contract.events import Violation
from producers.http.models import Decision, Revision
from warehouse import approvals
from warehouse.client import Warehouse

# One query for both tables. Not ``AS report_id``: the alias would replace the UUID
# column in WHERE, and a string is never IN an array of UUIDs.
DECISIONS_SQL = """
SELECT toString(report_id) AS rid, 'accepted' AS status, revision,
       toString(timeliness) AS timeliness, warnings AS reasons
FROM reports WHERE report_id IN {ids:Array(UUID)}
ORDER BY revision LIMIT 1 BY rid
UNION ALL
SELECT report_id AS rid, 'rejected' AS status, toUInt16(0) AS revision,
       '' AS timeliness, errors AS reasons
FROM rejections WHERE report_id IN {ids:Array(String)}
ORDER BY rejected_at DESC LIMIT 1 BY rid
"""
REVISIONS_SQL = """
SELECT toString(report_id) AS report_id, dataset, unit_id, report_date, revision,
       toString(timeliness) AS timeliness, submitted_at, submitted_by, values_json, note, reason
       {more}
FROM reports
WHERE {unit} report_date >= {{since:Date}}
ORDER BY dataset, report_date, revision, report_id
LIMIT 1 BY report_id
"""


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # the columns are UTC; chDB drops the zone


def _violations(text: str | None) -> list[Violation]:
    return [Violation.model_validate(v) for v in json.loads(text or "[]")]


def _revision(row: dict[str, Any]) -> Revision:
    fields = {k: v for k, v in row.items() if k not in ("values_json", "warnings")}
    return Revision(
        **fields,
        values=json.loads(row["values_json"]),
        warnings=_violations(row.get("warnings")),
    ).model_copy(update={"submitted_at": _utc(row["submitted_at"])})


class WarehouseLookup:
    """Answer the API's questions about decisions and revisions from the warehouse tables."""

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh

    def decisions(self, report_ids: list[str]) -> dict[str, Decision]:
        ids = []
        for rid in report_ids:
            try:
                ids.append(str(uuid.UUID(rid)))
            except ValueError:
                continue  # not a UUID: never decided under that id
        if not ids:
            return {}
        found: dict[str, Decision] = {}
        for row in self.wh.query_dicts(DECISIONS_SQL, {"ids": ids}):
            rid, reasons = row["rid"], _violations(row["reasons"])
            if row["status"] == "rejected":
                found.setdefault(rid, Decision(status="rejected", errors=reasons))
            else:  # an acceptance wins over a rejection of the same report_id
                found[rid] = Decision(
                    status="accepted",
                    revision=row["revision"],
                    timeliness=row["timeliness"],
                    warnings=reasons,
                )
        return found

    def revisions(self, unit_id: str, since: date) -> list[Revision]:
        sql = REVISIONS_SQL.format(more="", unit="unit_id = {unit:String} AND")
        return [_revision(r) for r in self.wh.query_dicts(sql, {"unit": unit_id, "since": since})]

    def recent(self, since: date) -> list[Revision]:
        sql = REVISIONS_SQL.format(more=", warnings", unit="")
        return [_revision(r) for r in self.wh.query_dicts(sql, {"since": since})]


class WarehouseApprovals:
    """Answer the approval routes' questions from the warehouse (``warehouse/approvals.py``)."""

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh

    def listing(self, dataset: str, day: date, units: list[str]) -> list[approvals.ReviewRow]:
        return approvals.listing(self.wh, dataset, day, units)

    def latest_decisions(self, since: date) -> list[approvals.LatestDecision]:
        return approvals.latest_decisions(self.wh, since)
