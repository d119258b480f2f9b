"""Warehouse table of approvals, and the views that give each report's approval state.

``approvals`` keeps every decision (approve, accept, return) with who, when, why and the
values reviewed. ``approvals_latest`` is the newest decision per unit-day;
``approval_status`` sets it beside the unit-day's latest revision and derives the state a
reader sees; ``approval_states`` derives the same state alone, from the ``daily_reports``
rollup, for grids of a province's year. Like every view in ``warehouse.schema`` they
deduplicate (GROUP BY and argMax, or the rollup's FINAL), so a decision or a report
delivered twice counts once.
"""

from __future__ import annotations

from warehouse.table import LC, UTC_MS, Table

# Keyed by the decision's identity and instant: a redelivered copy collapses, and the
# same decision made again later (approve, return, approve) stays in the history.
APPROVALS = Table(
    "approvals",
    (
        ("approval_id", "String"),
        ("action", LC),
        ("dataset", LC),
        ("unit_id", "String"),
        ("report_date", "Date"),
        ("revision", "UInt16"),
        ("values_json", "String"),
        ("by_name", "String"),
        ("by_unit", "String"),
        ("reason", "String"),
        ("decided_at", UTC_MS),
    ),
    "dataset, unit_id, report_date, approval_id, decided_at",
    partition_by="toYYYYMM(report_date)",
)

#: The states a reader sees. ``submitted``: nobody has decided on the latest revision
#: (never reviewed, or corrected after a return); ``reopened``: approved or accepted,
#: then corrected (``changed_values`` says how many values differ from the reviewed ones).
STATES = ("submitted", "approved", "accepted", "returned", "reopened")

# The state of a unit-day's latest revision ``r.revision`` under its newest decision ``a``
# (LEFT JOIN: an empty id when nobody has decided), in every view that gives a state.
_STATE = """multiIf(a.approval_id = '', 'submitted',
        a.action = 'return' AND r.revision > a.revision, 'submitted',
        a.action = 'return', 'returned',
        r.revision > a.revision, 'reopened',
        a.action = 'accept', 'accepted', 'approved')"""

APPROVAL_VIEWS: tuple[tuple[str, str], ...] = (
    (
        # The newest decision on each unit-day (ties on the instant: the larger id).
        "approvals_latest",
        """SELECT dataset, unit_id, report_date, latest.1 AS approval_id, latest.2 AS action,
    latest.3 AS revision, latest.4 AS values_json, latest.5 AS by_name, latest.6 AS by_unit,
    latest.7 AS reason, latest.8 AS decided_at, decisions
FROM (
    SELECT a.dataset AS dataset, a.unit_id AS unit_id, a.report_date AS report_date,
        argMax((a.approval_id, a.action, a.revision, a.values_json, a.by_name, a.by_unit,
            a.reason, a.decided_at), (a.decided_at, a.approval_id)) AS latest,
        uniqExact(a.approval_id, a.decided_at) AS decisions
    FROM {db}.approvals AS a
    GROUP BY a.dataset, a.unit_id, a.report_date)""",
    ),
    (
        # One row per reported unit-day: its latest revision and the state of review.
        # A unit-day nobody has decided on is ``submitted`` (LEFT JOIN: empty id).
        "approval_status",
        f"""SELECT r.dataset AS dataset, r.unit_id AS unit_id, r.report_date AS report_date,
    r.revision AS revision,
    {_STATE} AS state,
    if(a.approval_id = '' OR a.action = 'return', 0, a.revision) AS approved_revision,
    if(a.approval_id != '' AND a.action != 'return' AND r.revision > a.revision,
        arrayCount(k -> (now_values[k] != then_values[k])
                OR (mapContains(now_values, k) != mapContains(then_values, k)),
            arrayDistinct(arrayConcat(mapKeys(now_values), mapKeys(then_values)))),
        0) AS changed_values,
    a.action AS action, a.approval_id AS approval_id, a.by_name AS by_name,
    a.by_unit AS by_unit, a.reason AS reason, a.decided_at AS decided_at
FROM (
    SELECT x.dataset AS dataset, x.unit_id AS unit_id, x.report_date AS report_date,
        max(x.revision) AS revision,
        JSONExtract(argMax(x.values_json, (x.revision, x.submitted_at, x.report_id)),
            'Map(String, UInt32)') AS now_values
    FROM {{db}}.reports AS x
    GROUP BY x.dataset, x.unit_id, x.report_date) AS r
LEFT JOIN (
    SELECT l.dataset AS dataset, l.unit_id AS unit_id, l.report_date AS report_date,
        l.approval_id AS approval_id, l.action AS action, l.revision AS revision,
        l.by_name AS by_name, l.by_unit AS by_unit, l.reason AS reason,
        l.decided_at AS decided_at,
        JSONExtract(l.values_json, 'Map(String, UInt32)') AS then_values
    FROM {{db}}.approvals_latest AS l) AS a
    ON a.dataset = r.dataset AND a.unit_id = r.unit_id AND a.report_date = r.report_date""",
    ),
    (
        # approval_status's state alone, for grids of many unit-days: the latest revision
        # comes from the daily_reports rollup (FINAL) instead of grouping every revision
        # in `reports` with its values (a province's year: bench/queries.py).
        "approval_states",
        f"""SELECT r.dataset AS dataset, r.unit_id AS unit_id, r.report_date AS report_date,
    r.revision AS revision, {_STATE} AS state
FROM (
    SELECT x.dataset AS dataset, x.unit_id AS unit_id, x.report_date AS report_date,
        x.revision AS revision
    FROM {{db}}.daily_reports AS x FINAL) AS r
LEFT JOIN (
    SELECT l.dataset AS dataset, l.unit_id AS unit_id, l.report_date AS report_date,
        l.approval_id AS approval_id, l.action AS action, l.revision AS revision
    FROM {{db}}.approvals_latest AS l) AS a
    ON a.dataset = r.dataset AND a.unit_id = r.unit_id AND a.report_date = r.report_date""",
    ),
)
