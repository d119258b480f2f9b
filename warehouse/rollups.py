"""What the warehouse's rollups share: a materialized view on `reports` and its backfill.

A rollup keeps one row per (dataset, unit, day) of its latest revision, derived inside
the warehouse from the `reports` rows every writer writes (``warehouse.daily_values``
explains why a view on `reports` rather than rows from the sink). Each rollup is a
ReplacingMergeTree sorted by (dataset, unit_id, report_date) and versioned by
``VERSION``; readers read it with FINAL, exact before merges.
"""

from __future__ import annotations

#: Rows per index mark. Dashboards read a rollup a province at a time: a province's ~5k
#: unit-days of a month straddle granules of 8192 rows full of other provinces' rows,
#: each with its maps of values decoded. For province 19's year (60k unit-days) that
#: read 49 granules, 401k rows; at 1024, 181 granules, 185k rows, and the year-long map
#: panel took 10-25 % less in interleaved runs (bench/queries.py).
ROLLUP_GRANULARITY = 1024

#: (revision, submitted_at), the order ``reports_latest`` uses, packed into one UInt64:
#: ReplacingMergeTree takes one version column. ``r`` is the `reports` row.
VERSION = """bitShiftLeft(toUInt64(r.revision), 44)
        + toUInt64(toUnixTimestamp64Milli(r.submitted_at))"""

#: Months (toYYYYMM) where `reports` has unit-days the rollup lacks: none once filled.
#: Unit-days are counted by a 64-bit hash: far cheaper than a set of (string, date) tuples.
_UNFILLED = """SELECT month FROM (
        SELECT toYYYYMM(report_date) AS month, uniqExact({unit_day}) AS n
        FROM {db}.reports GROUP BY month) AS have
    LEFT JOIN (
        SELECT toYYYYMM(report_date) AS month, uniqExact({unit_day}) AS n
        FROM {db}.{rollup} GROUP BY month) AS done ON done.month = have.month
    WHERE done.n < have.n"""
_UNIT_DAY = "cityHash64(dataset, unit_id, report_date)"


def statements(
    name: str, columns: tuple[str, ...], select: str, database: str, cluster: str = ""
) -> list[str]:
    """Return the view that fills rollup ``name`` from `reports`, then its backfill.

    ``select`` reads `reports` as ``r`` from ``{reports}`` and yields ``columns`` in order.
    The backfill fills what `reports` held before the view existed (a warehouse made by
    an older version). It is idempotent and cheap to repeat: it copies only the months
    where the rollup has fewer unit-days than `reports` (a month it copies again adds
    rows that FINAL and merges collapse), so running it on every start costs two counts.
    On a cluster the view lives on every node, between the local tables, and the backfill
    runs once, through the Distributed tables (GLOBAL IN: its subquery reads them too).
    """
    db = f"`{database}`"
    if cluster:
        view = (
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.`{name}_mv`"
            f" ON CLUSTER `{cluster}`\nTO {db}.`{name}_local` AS\n"
            + select.format(reports=f"{db}.reports_local")
        )
    else:
        view = (
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.`{name}_mv`\n"
            f"TO {db}.`{name}` AS\n" + select.format(reports=f"{db}.reports")
        )
    backfill = (
        f"INSERT INTO {db}.`{name}` ({', '.join(columns)})\n"
        + select.format(reports=f"{db}.reports")
        + f"\nWHERE toYYYYMM(r.report_date) {'GLOBAL IN' if cluster else 'IN'} (\n    "
        + _UNFILLED.format(db=db, unit_day=_UNIT_DAY, rollup=name)
        + ")"
        + ("\nSETTINGS distributed_foreground_insert = 1" if cluster else "")
    )
    return [view, backfill]
