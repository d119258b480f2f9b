"""Warehouse tables of surveillance: signals (anomaly alerts) and epidemic levels.

Each keeps every row it is sent; its view gives the newest state: ``signals_current``
one row per signal, ``levels_latest`` one row per unit, profile, period and day. Like
every view in ``warehouse.schema`` they deduplicate with GROUP BY and argMax, so they are
exact right after an insert, before any merge, and after a batch was written twice.
"""

from __future__ import annotations

from warehouse.table import LC, UTC_MS, Table

SIGNAL_STATE = "Enum8('active' = 1, 'withdrawn' = 2)"
#: Tells apart two assessments of one unit-day stamped with the same instant (levels_latest
#: breaks ties on the instant with the same hash).
LEVEL_CONTENT = "cityHash64(criteria, why_en, next_en)"

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

SIGNAL_VIEWS: tuple[tuple[str, str], ...] = (
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
)
