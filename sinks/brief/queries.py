"""The brief's SQL: one query per section, every one filtered to the area's units.

A unit-day's figures are those of its latest revision submitted before the cut-off,
chosen by (revision, submitted_at, report_id) as ``reports_latest`` chooses, from
``reports`` (one row per revision, its values as JSON): the views answer "now", the
brief answers "at the cut-off" and lists what came after apart. Every filter names
``unit_id`` and ``report_date``, the tables' sort keys, so a province's year is read
without the rest of the nation. ``{area}`` is replaced by ``area_filter``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

#: The order that makes a revision the latest (``reports_latest``'s).
LATEST = "(revision, submitted_at, report_id)"


def area_filter(province: str | None, kinds: tuple[str, ...] = ()) -> str:
    """``unit_id IN (...)`` for the area's units (optionally of some kinds only)."""
    where = [] if province is None else ["province_id = {province:String}"]
    if kinds:
        where.append("kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")")
    if not where:
        return "1"
    return f"unit_id IN (SELECT unit_id FROM units_current WHERE {' AND '.join(where)})"


def cutoffs(deadlines: Mapping[str, datetime]) -> str:
    """A SQL expression: the cut-off instant of the row's ``dataset``.

    Dataset codes match ``^[a-z][a-z0-9-]*$`` (contract.datasets) and the instants are
    formatted here, so the literal cannot carry anything but a code and a time.
    """
    arms = ", ".join(
        f"dataset = '{code}', toDateTime64('{_utc(at)}', 3, 'UTC')"
        for code, at in sorted(deadlines.items())
    )
    return f"multiIf({arms}, toDateTime64('1970-01-01 00:00:00', 3, 'UTC'))"


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


#: The area's own units, for ``UNITS`` (which reads units_current itself).
PROVINCE = "province_id = {province:String}"

UNITS = """
SELECT unit_id, name, toString(kind) AS kind, parent_id, province_id, district_id,
    population, population_by_age, datasets, active_from, active_to
FROM units_current WHERE {area}
"""

# Sums by dataset, day and value key of the latest revisions by the cut-off, over the
# charts' window, with each disaggregated metric's total beside its options
# ("vaccine_dose2" and "vaccine_dose2.age_18_49"); ``units`` counts the units whose
# report carries the key, and key '' the units that reported the day at all (a revision
# without values too).
DAILY = """
SELECT dataset, report_date AS day, kv.1 AS key, sum(kv.2) AS total, count() AS units
FROM (
    SELECT dataset, report_date, JSONExtractKeysAndValues(vj, 'UInt32') AS pairs,
        arrayDistinct(arrayMap(p -> substringIndex(p.1, '.', 1),
            arrayFilter(p -> position(p.1, '.') > 0, pairs))) AS split
    FROM (
        SELECT dataset, unit_id, report_date, argMax(values_json, {latest}) AS vj
        FROM reports
        WHERE report_date BETWEEN {lo:Date} AND {day:Date} AND submitted_at < {cutoff}
            AND {area}
        GROUP BY dataset, unit_id, report_date))
ARRAY JOIN arrayConcat([('', toUInt32(0))], pairs, arrayMap(m -> (m, toUInt32(arraySum(
    arrayMap(p -> if(substringIndex(p.1, '.', 1) = m, p.2, 0), pairs)))), split)) AS kv
GROUP BY dataset, day, key
"""

# The vaccine keys summed over every day before the window (cumulative doses need all
# history, nothing else does): kept apart from DAILY, whose per-key unit counts and
# metric totals would cost seconds over a national year for figures nobody shows.
BEFORE_WINDOW = """
SELECT kv.1 AS key, sum(kv.2) AS total
FROM (
    SELECT unit_id, report_date, argMax(values_json, {latest}) AS vj
    FROM reports
    WHERE dataset = 'district-daily' AND report_date < {lo:Date}
        AND submitted_at < {cutoff} AND {area}
    GROUP BY unit_id, report_date)
ARRAY JOIN JSONExtractKeysAndValues(vj, 'UInt32') AS kv
WHERE startsWith(kv.1, 'vaccine_')
GROUP BY key
"""

# Each unit's reports of the day up to the brief's instant: its revision at the cut-off
# (revision 0 when none) and its latest, with the first submission (timeliness).
DAY_UNITS = """
SELECT dataset, unit_id,
    argMaxIf((revision, values_json, note), {latest}, submitted_at < {cutoff}) AS at_cutoff,
    argMax((revision, values_json, note, submitted_at, reason), {latest}) AS latest,
    min(first_submitted_at) AS first_at
FROM reports
WHERE report_date = {day:Date} AND submitted_at <= {now:DateTime64(3, 'UTC')} AND {area}
GROUP BY dataset, unit_id
"""

# Units with community cases on a day of the 14 before the brief's day (by the cut-off).
COMMUNITY_BEFORE = """
SELECT unit_id, max(report_date) AS last_day
FROM (
    SELECT unit_id, report_date, argMax(values_json, {latest}) AS vj
    FROM reports
    WHERE dataset = 'district-daily' AND report_date BETWEEN {since:Date} AND {before:Date}
        AND submitted_at < {cutoff} AND {area}
    GROUP BY unit_id, report_date)
WHERE JSONExtractUInt(vj, 'cases_community') > 0
GROUP BY unit_id
"""

# Each signal's state at the brief's instant (as signals_current chooses, by changed_at).
SIGNALS = """
SELECT signal_id, unit_id, report_date, x.1 AS rule, x.2 AS severity, x.3 AS message_vi,
    x.4 AS message_en
FROM (
    SELECT signal_id, unit_id, report_date,
        argMax((toString(rule), toString(severity), message_vi, message_en, toString(state)),
            (changed_at, alert_id)) AS x
    FROM signals
    WHERE report_date BETWEEN {since:Date} AND {day:Date}
        AND changed_at <= {now:DateTime64(3, 'UTC')} AND {area}
    GROUP BY signal_id, unit_id, report_date)
WHERE x.5 = 'active'
ORDER BY report_date DESC, unit_id, signal_id
"""

# Per unit and day: the assessment that counts (on a Sunday the official weekly one
# before the provisional daily one, then the newest: warehouse.surveillance.LEVELS_SQL's
# order) and the provisional daily level alone (what a level change compares).
LEVELS = """
SELECT unit_id, level_date,
    argMax((level, why_vi, why_en, next_vi, next_en, unconfirmed),
        (period = 'week', assessed_at, profile)) AS best,
    argMaxIf(level, (assessed_at, profile), period = 'day') AS daily,
    countIf(period = 'day') AS dailies
FROM levels
WHERE level_date BETWEEN {since:Date} AND {day:Date}
    AND assessed_at <= {now:DateTime64(3, 'UTC')} AND {area}
GROUP BY unit_id, level_date
ORDER BY unit_id, level_date
"""


def sql(template: str, area: str, deadlines: Mapping[str, datetime]) -> str:
    """Fill a template's area filter, cut-off expression and revision order."""
    return (
        template.replace("{area}", area)
        .replace("{cutoff}", cutoffs(deadlines))
        .replace("{latest}", LATEST)
    )
