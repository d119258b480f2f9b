"""The report rollup: one row per (dataset, unit, day) naming its latest revision.

Compliance (on time, late, missing per unit-day) and the approval grid need, for each
unit-day of a period, whether it was reported and its latest revision's number and
timeliness. ``reports_latest`` finds them by grouping every revision in `reports` with
argMax on each read; over a province's year that grouping was most of a compliance
panel's time (bench/queries.py). This table keeps the answer, the way
``warehouse.daily_values`` keeps the values: filled by a materialized view on `reports`,
backfilled for an older warehouse, read with FINAL (exact before merges: every filter a
reader applies on dataset, unit_id or report_date is constant within a unit-day).

It is narrow on purpose: no values, so a year of a province reads a few columns instead
of the rollup's maps. The latest revision is the newest by (revision, submitted_at), as
in ``daily_values``; ``reports_latest`` breaks a tie of both on report_id, which only two
different reports carrying one revision number and one instant would need.
"""

from __future__ import annotations

from warehouse import rollups
from warehouse.rollups import ROLLUP_GRANULARITY
from warehouse.table import LC, TIMELINESS, UTC_MS, Table

# One row per unit-day once merged (per revision until then); readers use FINAL.
DAILY_REPORTS = Table(
    "daily_reports",
    (
        ("dataset", LC),
        ("unit_id", "String"),
        ("report_date", "Date"),
        ("revision", "UInt16"),
        ("timeliness", TIMELINESS),
        ("submitted_at", UTC_MS),
        ("report_id", "UUID"),
        ("version", "UInt64"),  # revision, then submitted_at (warehouse.rollups.VERSION)
    ),
    "dataset, unit_id, report_date",
    engine="ReplacingMergeTree(version)",
    partition_by="toYYYYMM(report_date)",
    index_granularity=ROLLUP_GRANULARITY,
)

#: The view and the backfill select these, in this order.
COLUMNS = DAILY_REPORTS.column_names

_SELECT = f"""SELECT r.dataset AS dataset, r.unit_id AS unit_id, r.report_date AS report_date,
    r.revision AS revision, r.timeliness AS timeliness, r.submitted_at AS submitted_at,
    r.report_id AS report_id, {rollups.VERSION} AS version
FROM {{reports}} AS r"""


def statements(database: str, cluster: str = "") -> list[str]:
    """Return the view that fills the rollup from `reports`, then the backfill
    (``warehouse.rollups.statements``)."""
    return rollups.statements("daily_reports", COLUMNS, _SELECT, database, cluster)
