"""Warehouse tables and views, one definition each, for chDB and ClickHouse server alike.

Every table is a ReplacingMergeTree keyed by the identity of what it stores, so a row
written twice collapses when parts merge. Readers never wait for that: the views below
deduplicate with GROUP BY / argMax / LIMIT BY, because merges run in the background at
an unknown time (and may never run on a small table), while dashboards must be exact
right after an insert, even after a redelivered batch was written a second time.

The surveillance tables and their views live in ``warehouse.signal_tables``; the daily
rollups, which the warehouse fills from ``reports`` and readers read with FINAL, in
``warehouse.daily_values`` (values) and ``warehouse.daily_reports`` (latest revision and
timeliness); the Table definition in ``warehouse.table``.

On a cluster (``Settings.clickhouse_cluster``) the same definitions become replicated
``<table>_local`` tables on every node plus Distributed tables under the original
names, so the sink, the views and every reader keep using the names below.
"""

from __future__ import annotations

from warehouse import daily_reports, daily_values
from warehouse.approval_tables import APPROVAL_VIEWS, APPROVALS
from warehouse.compliance_views import COMPLIANCE_VIEWS
from warehouse.daily_reports import DAILY_REPORTS
from warehouse.daily_values import DAILY_VALUES
from warehouse.signal_tables import LEVELS, SIGNAL_VIEWS, SIGNALS
from warehouse.table import LC, TIMELINESS, UTC_MS, Table

REPORT_VALUES = Table(
    "report_values",
    (
        ("report_id", "UUID"),
        ("dataset", LC),
        ("unit_id", "String"),
        ("report_date", "Date"),
        # '' for a revision that reported no value at all: one marker row keeps every
        # revision in this table (its accepted_at dates the data); readers skip it.
        ("metric", LC),
        ("option", LC),
        ("value", "UInt32"),
        ("revision", "UInt16"),
        ("timeliness", TIMELINESS),
        ("submitted_at", UTC_MS),
        ("accepted_at", UTC_MS),
    ),
    "dataset, unit_id, report_date, metric, option, report_id",
    partition_by="toYYYYMM(report_date)",
)

REPORTS = Table(
    "reports",
    (
        ("report_id", "UUID"),
        ("dataset", LC),
        ("unit_id", "String"),
        ("report_date", "Date"),
        ("revision", "UInt16"),
        ("timeliness", TIMELINESS),
        ("submitted_at", UTC_MS),
        ("first_submitted_at", UTC_MS),
        ("deadline", UTC_MS),
        ("accepted_at", UTC_MS),
        ("submitted_by", "String"),
        ("values_json", "String"),  # not `values`: a keyword in INSERT statements
        ("note", "String"),
        ("reason", "String"),
        ("warnings", "String"),
        ("warning_rules", "Array(String)"),
        ("source_topic", LC),
        ("source_partition", "UInt32"),
        ("source_offset", "UInt64"),
    ),
    "dataset, unit_id, report_date, report_id",
    partition_by="toYYYYMM(report_date)",
)

REJECTIONS = Table(
    "rejections",
    (
        ("rejection_id", "UUID"),
        ("rejected_at", UTC_MS),
        ("report_id", "String"),
        ("dataset", LC),
        ("unit_id", "String"),
        ("report_date", "Nullable(Date)"),
        ("submitted_at", "String"),
        ("submitted_by", "String"),
        ("rule_ids", "Array(String)"),
        ("errors", "String"),
        ("submission", "String"),
        ("raw", "String"),
        # where the refused submission was read (reports.submitted), when known
        ("source_topic", LC),
        ("source_partition", "Nullable(UInt32)"),
        ("source_offset", "Nullable(UInt64)"),
    ),
    "rejection_id",
)

ALERTS = Table(
    "alerts",
    (
        ("alert_id", "String"),
        ("kind", LC),
        ("severity", LC),
        ("dataset", LC),
        ("unit_id", "String"),
        ("report_date", "Date"),
        ("raised_at", UTC_MS),
        ("message_vi", "String"),
        ("message_en", "String"),
        ("details", "String"),
    ),
    "alert_id",
)

UNITS = Table(
    "units",
    (
        ("unit_id", "String"),
        ("name", "String"),
        ("name_ascii", "String"),
        ("kind", LC),
        ("parent_id", "Nullable(String)"),
        ("province_id", "String"),
        ("district_id", "Nullable(String)"),
        ("population", "Nullable(UInt64)"),
        ("population_by_age", "Map(String, UInt64)"),
        ("lat", "Nullable(Float64)"),
        ("lon", "Nullable(Float64)"),
        ("datasets", "Array(String)"),
        ("active_from", "Date"),
        ("active_to", "Nullable(Date)"),
        # one load of the registry; the newest load is the registry (see units_current)
        ("version", "UInt64"),
    ),
    "unit_id",
    engine="ReplacingMergeTree(version)",
)

DEAD_LETTERS = Table(
    "dead_letters",
    (
        ("source_topic", LC),
        ("source_partition", "UInt32"),
        ("source_offset", "UInt64"),
        ("error", "String"),
        ("raw", "String"),
        ("seen_at", UTC_MS),
    ),
    "source_topic, source_partition, source_offset",
    shard_by="cityHash64(source_topic, source_partition)",  # no unit_id: keep a partition together
)

# One row per archived version of a daily brief (sinks.brief.archive): the files are on
# disk under Settings.brief_dir at `path`; a version is never rewritten, a new one is added.
# source_mark says which warehouse data the version was made from (sinks.brief.maker).
BRIEFS = Table(
    "briefs",
    (
        ("province_id", "String"),  # 'national' for the roll-up of the whole registry
        ("report_date", "Date"),
        ("version", "UInt16"),
        ("generated_at", UTC_MS),
        ("formats", "Array(String)"),
        ("content_hash", "String"),
        ("path", "String"),
        ("cutoff", UTC_MS),
        ("units_reported", "UInt32"),
        ("units_expected", "UInt32"),
        ("source_mark", "String"),
    ),
    "province_id, report_date, version",
    shard_by="cityHash64(province_id)",
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        REPORT_VALUES,
        REPORTS,
        REJECTIONS,
        ALERTS,
        UNITS,
        DEAD_LETTERS,
        SIGNALS,
        LEVELS,
        DAILY_VALUES,
        DAILY_REPORTS,
        BRIEFS,
        APPROVALS,
    )
}

# The latest revision of a (dataset, unit, date) is chosen by (revision, submitted_at,
# report_id) so that even two report_ids carrying the same revision number give one
# deterministic answer. Duplicated rows (same report_id) collapse in the GROUP BYs.
# Columns are qualified (r.revision) because ClickHouse lets an output alias such as
# `revision` shadow the column of the same name anywhere else in the query.
_LATEST_KEY = "(r.revision, r.submitted_at, r.report_id)"
_UNIT_COLUMNS = ", ".join(name for name in UNITS.column_names if name != "version")

VIEWS: tuple[tuple[str, str], ...] = (
    (
        "reports_latest",
        f"""SELECT r.dataset AS dataset, r.unit_id AS unit_id, r.report_date AS report_date,
    max(r.revision) AS revision,
    argMax(r.report_id, {_LATEST_KEY}) AS report_id,
    argMax(r.timeliness, {_LATEST_KEY}) AS timeliness,
    argMax(r.submitted_by, {_LATEST_KEY}) AS submitted_by,
    min(r.first_submitted_at) AS first_submitted_at,
    max(r.submitted_at) AS last_submitted_at,
    uniqExact(r.report_id) AS revisions
FROM {{db}}.reports AS r
GROUP BY r.dataset, r.unit_id, r.report_date""",
    ),
    (
        # The latest report of each unit-day is chosen in `reports` (one row per report,
        # a sixteenth of report_values), then only that report's value rows are kept:
        # a metric a correction left out is gone, and a revision with no values empties
        # the unit-day. Both sides are grouped by the unit-day, so a reader's filter on
        # dataset, unit_id and report_date reaches both tables' sort keys, and a filter
        # on metric reaches report_values. Readers depend on two inserts, made in one
        # order: the sink writes a batch's report_values before its `reports` rows
        # (sinks.clickhouse.TABLE_ORDER), so between the two a reader sees the previous
        # revision whole, never a report without its values. (Choosing the latest
        # report among report_values' own rows with groupUniqArray took 0.45 s for a
        # province's year; this takes about 0.2 s, see docs/benchmarks.md.)
        # GROUP BY ... report_id collapses value rows inserted twice.
        "report_values_latest",
        f"""SELECT v.dataset AS dataset, v.unit_id AS unit_id, v.report_date AS report_date,
    v.metric AS metric, v.option AS option, v.value AS value,
    l.revision AS revision, l.report_id AS report_id, l.timeliness AS timeliness,
    l.submitted_at AS submitted_at
FROM (
    SELECT x.dataset AS dataset, x.unit_id AS unit_id, x.report_date AS report_date,
        x.metric AS metric, x.option AS option, x.report_id AS report_id,
        any(x.value) AS value
    FROM {{db}}.report_values AS x
    WHERE x.metric != ''
    GROUP BY x.dataset, x.unit_id, x.report_date, x.metric, x.option, x.report_id) AS v
INNER JOIN (
    SELECT dataset, unit_id, report_date, latest.1 AS report_id, latest.2 AS revision,
        latest.3 AS timeliness, latest.4 AS submitted_at
    FROM (
        SELECT r.dataset AS dataset, r.unit_id AS unit_id, r.report_date AS report_date,
            argMax((r.report_id, r.revision, r.timeliness, r.submitted_at), {_LATEST_KEY})
                AS latest
        FROM {{db}}.reports AS r
        GROUP BY r.dataset, r.unit_id, r.report_date)) AS l
    ON l.dataset = v.dataset AND l.unit_id = v.unit_id AND l.report_date = v.report_date
    AND l.report_id = v.report_id""",
    ),
    (
        # Only the newest load of the registry counts: a unit removed from the
        # registry disappears at once, before any cleanup or merge.
        "units_current",
        f"""SELECT {_UNIT_COLUMNS}
FROM {{db}}.units
WHERE version = (SELECT max(version) FROM {{db}}.units)
LIMIT 1 BY unit_id""",
    ),
    (
        "daily_district_totals",
        """SELECT v.dataset AS dataset, v.report_date AS report_date,
    assumeNotNull(u.district_id) AS district_id, v.metric AS metric, v.option AS option,
    sum(v.value) AS value, uniqExact(v.unit_id) AS units_reporting
FROM {db}.report_values_latest AS v
INNER JOIN {db}.units_current AS u ON u.unit_id = v.unit_id
WHERE u.district_id IS NOT NULL
GROUP BY v.dataset, v.report_date, u.district_id, v.metric, v.option""",
    ),
    (
        "daily_province_totals",
        """SELECT v.dataset AS dataset, v.report_date AS report_date,
    u.province_id AS province_id, v.metric AS metric, v.option AS option,
    sum(v.value) AS value, uniqExact(v.unit_id) AS units_reporting
FROM {db}.report_values_latest AS v
INNER JOIN {db}.units_current AS u ON u.unit_id = v.unit_id
GROUP BY v.dataset, v.report_date, u.province_id, v.metric, v.option""",
    ),
    (
        # The newest version of each province's brief for a day, and how many there are;
        # a row written twice counts once.
        "briefs_latest",
        """SELECT province_id, report_date, version, versions, latest.1 AS generated_at,
    latest.2 AS formats, latest.3 AS content_hash, latest.4 AS path, latest.5 AS cutoff,
    latest.6 AS units_reported, latest.7 AS units_expected, latest.8 AS source_mark
FROM (
    SELECT b.province_id AS province_id, b.report_date AS report_date,
        max(b.version) AS version, uniqExact(b.version) AS versions,
        argMax((b.generated_at, b.formats, b.content_hash, b.path, b.cutoff,
            b.units_reported, b.units_expected, b.source_mark), b.version) AS latest
    FROM {db}.briefs AS b
    GROUP BY b.province_id, b.report_date)""",
    ),
)


#: Every view, in creation order (later views read earlier ones).
VIEW_NAMES = tuple(name for name, _ in (*VIEWS, *COMPLIANCE_VIEWS, *SIGNAL_VIEWS, *APPROVAL_VIEWS))


def statements(database: str, cluster: str = "") -> list[str]:
    """Return the DDL creating the database, every table and every view, in order.

    Between the tables and the views: the materialized views filling ``daily_values``
    and ``daily_reports`` and their backfills (INSERTs, idempotent, run once even on a
    cluster).

    With ``cluster``, every statement runs ON CLUSTER, each table is a replicated
    ``<name>_local`` plus a Distributed table under its own name, and the views read
    the Distributed tables, so readers and the sink use the same names either way.
    """
    db = f"`{database}`"
    on = f" ON CLUSTER `{cluster}`" if cluster else ""
    out = [f"CREATE DATABASE IF NOT EXISTS {db}{on}"]
    for table in TABLES.values():
        out += table.cluster_ddl(database, cluster) if cluster else [table.ddl(database)]
    out += daily_values.statements(database, cluster)  # the rollups' views and backfills
    out += daily_reports.statements(database, cluster)
    # No view puts a subquery on a Distributed table inside a query on one: that is
    # refused by default (distributed_product_mode = 'deny').
    out += [
        f"CREATE OR REPLACE VIEW {db}.`{name}`{on} AS\n{body.format(db=db)}"
        for name, body in (*VIEWS, *COMPLIANCE_VIEWS, *SIGNAL_VIEWS, *APPROVAL_VIEWS)
    ]
    return out
