"""Read approvals back: a reviewer's listing of a day, and the latest decision of each unit-day.

The listing sets ``approval_status`` (the state of review) beside the latest revision's
values, timeliness and submitter from ``reports``; the API and ``baocao approve`` show it,
and judge each decision against it. The latest decisions of the kept days let the API
refuse a correction of an accepted report without asking the warehouse per submission
(``producers/http/known.py``). Both read views that deduplicate, so a decision or a
revision delivered twice is read once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from warehouse.client import Warehouse

# The latest revision of each listed unit-day, as reports_latest chooses it; its values
# are the ones a reviewer approves. Both sides are filtered on the tables' sort keys.
LISTING_SQL = """
SELECT s.unit_id AS unit_id, s.revision AS revision, s.state AS state,
    s.approved_revision AS approved_revision, s.changed_values AS changed_values,
    s.action AS action, s.approval_id AS approval_id, s.by_name AS by_name,
    s.by_unit AS by_unit, s.reason AS reason, s.decided_at AS decided_at,
    r.timeliness AS timeliness, r.submitted_at AS submitted_at,
    r.submitted_by AS submitted_by, r.values_json AS values_json
FROM approval_status AS s
INNER JOIN (
    SELECT x.unit_id AS unit_id,
        argMax(toString(x.timeliness), (x.revision, x.submitted_at, x.report_id)) AS timeliness,
        argMax(x.submitted_at, (x.revision, x.submitted_at, x.report_id)) AS submitted_at,
        argMax(x.submitted_by, (x.revision, x.submitted_at, x.report_id)) AS submitted_by,
        argMax(x.values_json, (x.revision, x.submitted_at, x.report_id)) AS values_json
    FROM reports AS x
    WHERE x.dataset = {dataset:String} AND x.report_date = {day:Date}
        AND x.unit_id IN {units:Array(String)}
    GROUP BY x.unit_id) AS r ON r.unit_id = s.unit_id
WHERE s.dataset = {dataset:String} AND s.report_date = {day:Date}
    AND s.unit_id IN {units:Array(String)}
ORDER BY s.unit_id
"""

LATEST_SQL = """
SELECT dataset, unit_id, report_date, approval_id, action, revision, by_name, by_unit,
    decided_at
FROM approvals_latest
WHERE report_date >= {since:Date}
ORDER BY dataset, unit_id, report_date
"""


@dataclass(frozen=True)
class ReviewRow:
    """A reported unit-day: its latest revision and where its review stands.

    ``state``: submitted, approved, accepted, returned or reopened (``approval_status``);
    the decision's fields are empty (``decided_at`` None) when nobody has decided yet.
    """

    unit_id: str
    revision: int
    state: str
    approved_revision: int
    changed_values: int
    action: str
    approval_id: str
    by_name: str
    by_unit: str
    reason: str
    decided_at: datetime | None
    timeliness: str
    submitted_at: datetime
    submitted_by: str
    values: dict[str, int]


@dataclass(frozen=True)
class LatestDecision:
    """The newest decision on a unit-day (``approvals_latest``)."""

    dataset: str
    unit_id: str
    report_date: date
    approval_id: str
    action: str
    revision: int
    by_name: str
    by_unit: str
    decided_at: datetime


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # the columns are UTC; chDB drops the zone


def listing(wh: Warehouse, dataset: str, day: date, units: list[str]) -> list[ReviewRow]:
    """The reported unit-days of ``units`` for ``dataset`` on ``day`` (unreported: absent)."""
    if not units:
        return []
    rows = wh.query_dicts(LISTING_SQL, {"dataset": dataset, "day": day, "units": units})
    return [
        ReviewRow(
            unit_id=row["unit_id"],
            revision=int(row["revision"]),
            state=str(row["state"]),
            approved_revision=int(row["approved_revision"]),
            changed_values=int(row["changed_values"]),
            action=row["action"],
            approval_id=row["approval_id"],
            by_name=row["by_name"],
            by_unit=row["by_unit"],
            reason=row["reason"],
            decided_at=_utc(row["decided_at"]) if row["approval_id"] else None,
            timeliness=row["timeliness"],
            submitted_at=_utc(row["submitted_at"]),
            submitted_by=row["submitted_by"],
            values={k: int(v) for k, v in json.loads(row["values_json"] or "{}").items()},
        )
        for row in rows
    ]


def latest_decisions(wh: Warehouse, since: date) -> list[LatestDecision]:
    """The newest decision on every unit-day of ``since`` and later days."""
    return [
        LatestDecision(
            dataset=row["dataset"],
            unit_id=row["unit_id"],
            report_date=row["report_date"],
            approval_id=row["approval_id"],
            action=row["action"],
            revision=int(row["revision"]),
            by_name=row["by_name"],
            by_unit=row["by_unit"],
            decided_at=_utc(row["decided_at"]),
        )
        for row in wh.query_dicts(LATEST_SQL, {"since": since})
    ]
