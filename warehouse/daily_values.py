"""The daily rollup: one row per (dataset, unit, day) holding its latest revision's values.

Signals, levels and the year-long dashboard panels need every unit's daily values of
the latest revision over weeks or a year. ``report_values_latest`` computes them by
choosing each unit-day's latest report and joining its value rows, on every read; this
table keeps the answer instead: ``counts`` maps each reported key ("metric" or
"metric.option") to its value, ``totals`` maps each metric to its value or, for a
disaggregated metric, the sum of its options. A key absent from the maps was not
reported (never 0); a correction replaces the maps whole, so a metric it leaves out is
gone, and a revision without values leaves both maps empty.

Why a materialized view on ``reports`` rather than rows written by the sink: the rollup
is then derived, inside the warehouse, from the audit row every writer already writes
(the sink, a replay, the benchmark fill), with one definition of the derivation that the
backfill below reuses. It costs the sink nothing, and it cannot drift from ``reports``:
a batch re-sent with its token is deduplicated in ``reports`` and in the view's target
alike (``deduplicate_blocks_in_dependent_materialized_views``, which the warehouse sets
on every insert, so a retry after the view failed still reaches the rollup).

Rows are versioned by (revision, submitted_at), the order ``reports_latest`` uses, packed
into one UInt64 because ReplacingMergeTree takes one version column. Merges keep the
newest row of a unit-day; readers must not wait for them and read with ``FINAL``, which
is exact at once: every key filter a reader can apply (dataset, unit_id, report_date)
is constant within a unit-day, and ClickHouse applies any other filter after it has
chosen the newest row. (FINAL rather than argMax grouped by unit-day: FINAL merges
only the parts that overlap, and once merged it reads each unit-day once, no grouping.)
"""

from __future__ import annotations

from warehouse import rollups
from warehouse.rollups import ROLLUP_GRANULARITY
from warehouse.table import LC, UTC_MS, Table

# One row per unit-day once merged (per revision until then); readers use FINAL.
DAILY_VALUES = Table(
    "daily_values",
    (
        ("dataset", LC),
        ("unit_id", "String"),
        ("report_date", "Date"),
        ("revision", "UInt16"),
        ("submitted_at", UTC_MS),
        ("report_id", "UUID"),
        ("version", "UInt64"),  # revision, then submitted_at: see the module docstring
        ("counts", f"Map({LC}, UInt32)"),
        ("totals", f"Map({LC}, UInt64)"),
    ),
    "dataset, unit_id, report_date",
    engine="ReplacingMergeTree(version)",
    partition_by="toYYYYMM(report_date)",
    index_granularity=ROLLUP_GRANULARITY,
)

#: The view and the backfill select these, in this order.
COLUMNS = DAILY_VALUES.column_names

# `parts` are the disaggregated keys ("metric.option"); their metric's total is their sum.
# Plain keys are copied as they are (the contract never sends a total and its parts).
_SELECT = f"""WITH JSONExtract(r.values_json, 'Map(String, UInt32)') AS values_map,
    mapFilter((k, v) -> position(k, '.') > 0, values_map) AS parts,
    arrayMap(k -> substringIndex(k, '.', 1), mapKeys(parts)) AS part_metrics,
    arrayDistinct(part_metrics) AS split_metrics
SELECT r.dataset AS dataset, r.unit_id AS unit_id, r.report_date AS report_date,
    r.revision AS revision, r.submitted_at AS submitted_at, r.report_id AS report_id,
    {rollups.VERSION} AS version,
    values_map AS counts,
    mapUpdate(
        mapApply((k, v) -> (k, toUInt64(v)), mapFilter((k, v) -> position(k, '.') = 0, values_map)),
        mapFromArrays(split_metrics, arrayMap(
            m -> arraySum(arrayFilter((v, pm) -> pm = m, mapValues(parts), part_metrics)),
            split_metrics))) AS totals
FROM {{reports}} AS r"""


def statements(database: str, cluster: str = "") -> list[str]:
    """Return the view that fills the rollup from `reports`, then the backfill
    (``warehouse.rollups.statements``)."""
    return rollups.statements("daily_values", COLUMNS, _SELECT, database, cluster)
