"""Warehouse tables and views, one definition each, for chDB and ClickHouse server alike.

Every table is a ReplacingMergeTree keyed by the identity of what it stores, so a row
written twice collapses when parts merge. Readers never wait for that: the views below
deduplicate with GROUP BY / argMax / LIMIT BY, because merges run in the background at
an unknown time (and may never run on a small table), while dashboards must be exact
right after an insert, even after a redelivered batch was written a second time.

On a cluster (``Settings.clickhouse_cluster``) the same definitions become replicated
``<table>_local`` tables on every node plus Distributed tables under the original
names, so the sink, the views and every reader keep using the names below.
"""

from __future__ import annotations

from dataclasses import dataclass

from sinks import daily_values
from sinks.compliance_views import COMPLIANCE_VIEWS

UTC_MS = "DateTime64(3, 'UTC')"
TIMELINESS = "Enum8('on_time' = 1, 'late' = 2)"
LC = "LowCardinality(String)"
SIGNAL_STATE = "Enum8('active' = 1, 'withdrawn' = 2)"
#: Tells apart two assessments of one unit-day stamped with the same instant (levels_latest
#: breaks ties on the instant with the same hash).
LEVEL_CONTENT = "cityHash64(criteria, why_en, next_en)"
#: How many recent insert blocks a MergeTree remembers for deduplication (tokens or hashes).
DEDUP_WINDOW = 10_000
#: Keeper path and replica name of a replicated table; each server fills in its own macros.
REPLICA = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"


@dataclass(frozen=True)
class Table:
    """A table: its columns (name, ClickHouse type), engine, sorting and sharding keys."""

    name: str
    columns: tuple[tuple[str, str], ...]
    order_by: str
    engine: str = "ReplacingMergeTree"
    # On a cluster, rows with the same key land on the same shard, so ReplacingMergeTree
    # collapses redelivered copies there and a retried batch splits the same way.
    shard_by: str = "cityHash64(unit_id)"
    partition_by: str = ""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    @property
    def column_types(self) -> tuple[str, ...]:
        return tuple(kind for _, kind in self.columns)

    def _create(self, database: str, name: str, on_cluster: str, engine: str, window: str) -> str:
        cols = ",\n    ".join(f"`{col}` {kind}" for col, kind in self.columns)
        partition = f"PARTITION BY {self.partition_by}\n" if self.partition_by else ""
        return (
            f"CREATE TABLE IF NOT EXISTS `{database}`.`{name}`{on_cluster} (\n    {cols}\n)\n"
            f"ENGINE = {engine}\n{partition}ORDER BY ({self.order_by})\n"
            f"SETTINGS {window} = {DEDUP_WINDOW}"
        )

    def ddl(self, database: str) -> str:
        """The CREATE statement on one server."""
        return self._create(
            database, self.name, "", self.engine, "non_replicated_deduplication_window"
        )

    def cluster_ddl(self, database: str, cluster: str) -> tuple[str, str]:
        """A replicated ``<name>_local`` table on every node and a Distributed ``<name>``."""
        local, on = f"{self.name}_local", f" ON CLUSTER `{cluster}`"
        kind, _, args = self.engine.partition("(")  # e.g. "ReplacingMergeTree(version)"
        engine = f"Replicated{kind}({REPLICA}{', ' + args.rstrip(')') if args else ''})"
        distributed = (
            f"CREATE TABLE IF NOT EXISTS `{database}`.`{self.name}`{on}\n"
            f"AS `{database}`.`{local}`\n"
            f"ENGINE = Distributed('{cluster}', '{database}', '{local}', {self.shard_by})"
        )
        replicated = self._create(database, local, on, engine, "replicated_deduplication_window")
        return replicated, distributed


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

# One row per anomaly alert (the sink writes it next to the alert's `alerts` row). The
# alert_id is the identity; signal_id, unit_id and report_date are parts of it by
# contract, so keying by them first collapses the same duplicates and lets a reader's
# filter on unit and day reach the sort key.
SIGNALS = Table(
    "signals",
    (
        ("signal_id", "String"),
        ("alert_id", "String"),
        ("rule", LC),
        ("metric", LC),
        ("dataset", LC),
        ("unit_id", "String"),
        ("unit_kind", LC),
        ("report_date", "Date"),
        ("state", SIGNAL_STATE),
        ("severity", LC),
        ("message_vi", "String"),
        ("message_en", "String"),
        ("details", "String"),
        ("changed_at", UTC_MS),
    ),
    "unit_id, report_date, signal_id, alert_id",
)

# One row per LevelAssessed message. A re-assessment of the same unit, profile, period
# and day is a new row (a later assessed_at). Its content hash is part of the key so that
# two different assessments stamped with the same instant (a frozen demo clock) are both
# kept by merges and levels_latest picks the same one before and after merging.
LEVELS = Table(
    "levels",
    (
        ("unit_id", "String"),
        ("unit_kind", LC),
        ("level_date", "Date"),
        ("period", LC),
        ("profile", LC),
        ("level", "Nullable(UInt8)"),
        ("criteria", "String"),
        ("unconfirmed", "Array(String)"),
        ("why_vi", "String"),
        ("why_en", "String"),
        ("next_vi", "String"),
        ("next_en", "String"),
        ("assessed_at", UTC_MS),
    ),
    f"unit_id, profile, period, level_date, assessed_at, {LEVEL_CONTENT}",
    partition_by="toYYYYMM(level_date)",
)

# Filled by a materialized view on `reports` (sinks.daily_values): one row per unit-day
# once merged; readers use FINAL. Its columns are the view's, in sinks.daily_values.COLUMNS.
DAILY_VALUES = Table(
    "daily_values",
    (
        ("dataset", LC),
        ("unit_id", "String"),
        ("report_date", "Date"),
        ("revision", "UInt16"),
        ("submitted_at", UTC_MS),
        ("report_id", "UUID"),
        ("version", "UInt64"),  # revision, then submitted_at: see sinks.daily_values
        ("counts", f"Map({LC}, UInt32)"),
        ("totals", f"Map({LC}, UInt64)"),
    ),
    "dataset, unit_id, report_date",
    engine="ReplacingMergeTree(version)",
    partition_by="toYYYYMM(report_date)",
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
        BRIEFS,
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
        # province's year; this takes about 0.2 s, see README benchmarks.)
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
        # The newest state of each signal. Grouped by its unit and day too (parts of the
        # signal_id, so still one row per signal) so that a reader's filter on them
        # reaches the table's sort key; an alert redelivered twice counts once.
        "signals_current",
        """SELECT signal_id, unit_id, report_date, latest.1 AS alert_id, latest.2 AS rule,
    latest.3 AS metric, latest.4 AS dataset, latest.5 AS unit_kind, latest.6 AS state,
    latest.7 AS severity, latest.8 AS message_vi, latest.9 AS message_en,
    latest.10 AS details, latest.11 AS changed_at, first_raised_at
FROM (
    SELECT s.signal_id AS signal_id, s.unit_id AS unit_id, s.report_date AS report_date,
        argMax((s.alert_id, s.rule, s.metric, s.dataset, s.unit_kind, s.state, s.severity,
            s.message_vi, s.message_en, s.details, s.changed_at), (s.changed_at, s.alert_id))
            AS latest,
        min(s.changed_at) AS first_raised_at
    FROM {db}.signals AS s
    GROUP BY s.signal_id, s.unit_id, s.report_date)""",
    ),
    (
        # The newest assessment of each unit, profile, period and day; ties on the
        # instant are broken by content, as the table's key does.
        "levels_latest",
        """SELECT unit_id, profile, period, level_date, latest.1 AS unit_kind,
    latest.2 AS level, latest.3 AS criteria, latest.4 AS unconfirmed, latest.5 AS why_vi,
    latest.6 AS why_en, latest.7 AS next_vi, latest.8 AS next_en, latest.9 AS assessed_at
FROM (
    SELECT l.unit_id AS unit_id, l.profile AS profile, l.period AS period,
        l.level_date AS level_date,
        argMax((l.unit_kind, l.level, l.criteria, l.unconfirmed, l.why_vi, l.why_en,
            l.next_vi, l.next_en, l.assessed_at),
            (l.assessed_at, cityHash64(l.criteria, l.why_en, l.next_en)))
            AS latest
    FROM {db}.levels AS l
    GROUP BY l.unit_id, l.profile, l.period, l.level_date)""",
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
VIEW_NAMES = tuple(name for name, _ in (*VIEWS, *COMPLIANCE_VIEWS))


def statements(database: str, cluster: str = "") -> list[str]:
    """Return the DDL creating the database, every table and every view, in order.

    Between the tables and the views: the materialized view filling ``daily_values``
    and its backfill (an INSERT, idempotent, run once even on a cluster).

    With ``cluster``, every statement runs ON CLUSTER, each table is a replicated
    ``<name>_local`` plus a Distributed table under its own name, and the views read
    the Distributed tables, so readers and the sink use the same names either way.
    """
    db = f"`{database}`"
    on = f" ON CLUSTER `{cluster}`" if cluster else ""
    out = [f"CREATE DATABASE IF NOT EXISTS {db}{on}"]
    for table in TABLES.values():
        out += table.cluster_ddl(database, cluster) if cluster else [table.ddl(database)]
    out += daily_values.statements(database, cluster)  # the rollup's view and backfill
    # No view puts a subquery on a Distributed table inside a query on one: that is
    # refused by default (distributed_product_mode = 'deny').
    out += [
        f"CREATE OR REPLACE VIEW {db}.`{name}`{on} AS\n{body.format(db=db)}"
        for name, body in (*VIEWS, *COMPLIANCE_VIEWS)
    ]
    return out
