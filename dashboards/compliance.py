"""Tuân thủ báo cáo — reporting compliance: on time, late, missing per unit and day, and
where each report stands in approval (đã duyệt / approved) beside it."""

from __future__ import annotations

from dashboards.common import (
    DATASET,
    DEADLINE_HOUR,
    DISTRICT,
    FROM_DAY,
    PROVINCE,
    TO_DAY,
    TZ,
    UNITS_IN,
    as_of,
    day_filter,
)
from dashboards.labels import APPROVAL_STATES, LABELS, STATUS_MARKS
from dashboards.model import Band, Bands, Dashboard, Panel


def _legend(lang: int) -> str:
    """The grid's marks named: "✓ Đúng hạn · T Trễ hạn · ✗ Thiếu · … Chưa đến hạn"."""
    return " · ".join(f"{mark} {LABELS[status][lang]}" for status, mark in STATUS_MARKS.items())


def _approval_legend(lang: int) -> str:
    """The approval grid's marks named: "○ Chờ duyệt · ✓ Đã duyệt · … · – Chưa báo cáo"."""
    marks = [f"{mark} {names[lang]}" for mark, *names in APPROVAL_STATES.values()]
    return " · ".join([*marks, f"– {_NOT_REPORTED[lang]}"])


_APPROVAL_COLOURS = {
    "submitted": "#C0D8F0",
    "approved": "#96D98D",
    "accepted": "#56A64B",
    "returned": "#FF9830",
    "reopened": "#FADE2A",
}
_NOT_REPORTED = ("Chưa báo cáo", "Not reported")
# Approval is shown beside the data, never instead of it: a unit-day nobody reported has
# no state (NULL), drawn as the "not reported" band.
_NONE = Band("", "#E0E4E8", *_NOT_REPORTED)
#: The approval grid's cells carry the state's mark (the viewer writes a band's value in
#: its cell; Grafana writes the band's name).
APPROVAL_MARKS = Bands(
    column="status",
    values=tuple(
        Band(mark, _APPROVAL_COLOURS[state], vi, en)
        for state, (mark, vi, en) in APPROVAL_STATES.items()
    ),
    missing=_NONE,
)
#: The same states in a table's ``state`` column, by their code (a table shows the name).
APPROVAL_BANDS = Bands(
    column="state",
    values=tuple(
        Band(state, _APPROVAL_COLOURS[state], vi, en)
        for state, (_, vi, en) in APPROVAL_STATES.items()
    ),
    missing=_NONE,
)
_STATE_CODES = ", ".join(f"'{state}'" for state in APPROVAL_STATES)
_STATE_MARKS = ", ".join(f"'{mark}'" for mark, _, _ in APPROVAL_STATES.values())


def _days(first: str) -> str:
    """The days from ``first`` to the period's last, in order."""
    return f"arrayMap(i -> {first} + i, range(toUInt32(dateDiff('day', {first}, {TO_DAY}) + 1)))"


def _offset(first: str, day: str) -> str:
    """``day``'s place among the days from ``first`` (0 for ``first``)."""
    return f"toUInt32(dateDiff('day', {first}, {day}))"


def _reported_in(first: str = FROM_DAY) -> str:
    """The unit-days from ``first`` to the period's last of the selected units (the
    filter reaches the sort key of what it reads)."""
    return f"dataset = '${{dataset}}' AND report_date BETWEEN {first} AND {TO_DAY} AND {UNITS_IN}"


def _expected(reported: str, first: str = FROM_DAY) -> str:
    """Return every (unit, day) from ``first`` on that must report, with what it
    ``reported`` that day.

    Expected: active that day and assigned the dataset (DHIS2's "expected"); a closed or
    inactive unit is not expected. ``reported`` selects unit_id, report_date and
    ``value``, a non-empty String, at most one row per unit-day; ``reported`` is '' on a
    unit-day it has no row for. Its rows are gathered per unit into an array by day of
    the period before they meet the units: joining a province's year one unit-day at a
    time (63k rows) cost 20-30 ms, the same even with nothing to join; its 172 units
    joined cost nothing measurable (bench/queries.py).
    """
    return (
        f"SELECT unit_id, name, day, by_day[{_offset(first, 'day')} + 1] AS reported FROM ("
        "SELECT u.unit_id AS unit_id, u.name AS name, r.by_day AS by_day,"
        " arrayJoin(arrayFilter(d -> u.active_from <= d AND (u.active_to IS NULL"
        f" OR d <= u.active_to), {_days(first)})) AS day"
        " FROM units_current AS u LEFT JOIN (SELECT unit_id,"
        f" groupArrayInsertAt('')(value, {_offset(first, 'report_date')}) AS by_day"
        f" FROM ({reported}) GROUP BY unit_id) AS r ON r.unit_id = u.unit_id"
        " WHERE has(u.datasets, '${dataset}') AND u.province_id = '${province}'"
        " AND ('${district}' = '' OR u.district_id = '${district}'))"
    )


def _status(first: str = FROM_DAY) -> str:
    """Return one row per expected (unit, day) from ``first`` on, with its status.

    "pending" until the deadline passes, as of the period's end when that is earlier
    than now (the viewer on a demo's clock). The latest revision's timeliness comes from
    the daily_reports rollup, read with FINAL (exact before merges), not from
    reports_latest, which groups every revision on each read: over a province's year
    that was most of a compliance panel's time (bench/queries.py).
    """
    return (
        "SELECT unit_id, name, day, multiIf(reported != '', reported,"
        f" least(now(), $__toTime) < toDateTime(day, '{TZ}') + INTERVAL {DEADLINE_HOUR} HOUR,"
        " 'pending', 'missing') AS status FROM ("
        + _expected(
            "SELECT unit_id, report_date, toString(timeliness) AS value"
            f" FROM daily_reports FINAL WHERE {_reported_in(first)}",
            first,
        )
        + ")"
    )


STATUS = _status()

# The approval state of every reported unit-day of the period, within the filters; the
# unit filter reaches the reports that approval_status groups (its first subquery).
APPROVALS = (
    "SELECT unit_id, report_date, revision, state, approved_revision, changed_values,"
    " approval_id, by_name, reason, decided_at FROM approval_status"
    f" WHERE {_reported_in()}"
)
# One row per expected (unit, day): the mark of its approval state, NULL if not reported.
# The state alone comes from approval_states (approval_status's state, from the rollup of
# latest revisions); a state is never ''.
APPROVAL_GRID = (
    "SELECT name AS unit, day,"
    f" if(reported != '', transform(reported, [{_STATE_CODES}], [{_STATE_MARKS}], '?'), NULL)"
    " AS status FROM ("
    + _expected(
        f"SELECT unit_id, report_date, state AS value FROM approval_states WHERE {_reported_in()}"
    )
    + ")"
)
# Per district and day: the reported unit-days of the district's units (its communes,
# its checkpoints and the district itself) and how many are approved or accepted.
APPROVED_SHARE = (
    "SELECT d.name AS district, a.report_date AS report_date, count() AS reported,"
    " countIf(a.state IN ('approved', 'accepted')) AS approved,"
    " round(100 * approved / reported, 1) AS approved_pct,"
    " countIf(a.state = 'returned') AS returned, countIf(a.state = 'reopened') AS reopened"
    f" FROM ({APPROVALS}) AS a INNER JOIN units_current AS u ON u.unit_id = a.unit_id"
    " INNER JOIN units_current AS d ON d.unit_id = u.district_id"
    " GROUP BY d.unit_id, d.name, a.report_date ORDER BY report_date DESC, d.unit_id"
)
# Each unit reported on the period's last day: its state, what changed since the review
# (reopened), who decided when, and why it was returned.
APPROVAL_LAST_DAY = (
    "SELECT a.unit_id AS unit_id, u.name AS name, a.state AS state, a.revision AS revision,"
    " a.approved_revision AS approved_revision, a.changed_values AS changed_values,"
    " a.by_name AS by_name,"
    f" if(a.approval_id = '', '', formatDateTime(a.decided_at, '%Y-%m-%d %H:%i', '{TZ}'))"
    " AS decided_at, a.reason AS reason"
    f" FROM ({APPROVALS}) AS a INNER JOIN units_current AS u ON u.unit_id = a.unit_id"
    f" WHERE a.report_date = {TO_DAY} ORDER BY a.unit_id"
)


def _few_values(column: str) -> str:
    """A grid's text column sent as LowCardinality: the same text, but the driver builds
    one string per distinct value, not one per cell (a year's grid has 63k cells of a
    few hundred names and five statuses)."""
    return f"toLowCardinality({column})"


COMPLIANCE = Dashboard(
    uid="baocao-compliance",
    title_vi="Tuân thủ báo cáo",
    title_en="Reporting compliance",
    variables=(PROVINCE, DISTRICT, DATASET),
    panels=(
        as_of(
            "SELECT accepted_at AS at FROM reports WHERE dataset = '${dataset}'"
            f" AND {day_filter('report_date')} AND {UNITS_IN}"
        ),
        Panel(
            key="counts",
            title_vi="Đúng hạn / trễ / thiếu (trong kỳ)",
            title_en="On time / late / missing (period)",
            kind="table",
            width=18,
            height=4,
            sql=(
                "SELECT count() AS expected, countIf(status = 'on_time') AS on_time,"
                " countIf(status = 'late') AS late, countIf(status = 'missing') AS missing,"
                f" countIf(status = 'pending') AS pending FROM ({STATUS})"
            ),
        ),
        Panel(
            key="rates",
            title_vi="Tỷ lệ báo cáo và đúng hạn (%)",
            title_en="Reporting rate and timeliness (%)",
            kind="timeseries",
            unit="percent",
            sql=(
                "SELECT day, round(100 * countIf(status IN ('on_time', 'late')) / count(), 1)"
                " AS reporting_rate, round(100 * countIf(status = 'on_time') / count(), 1)"
                f" AS timeliness FROM ({STATUS}) GROUP BY day ORDER BY day"
            ),
        ),
        Panel(
            key="missing_now",
            title_vi="Đơn vị chưa báo cáo (ngày cuối kỳ)",
            title_en="Units not yet reported (last day of the period)",
            kind="table",
            # the last day alone: the rollup is read for that day, not the period
            sql=(
                f"SELECT unit_id, name, status FROM ({_status(TO_DAY)})"
                f" WHERE day = {TO_DAY} AND status IN ('missing', 'pending')"
                " ORDER BY unit_id"
            ),
        ),
        Panel(
            key="grid",
            title_vi="Theo đơn vị và ngày",
            title_en="By unit and day",
            kind="grid",
            width=24,
            height=12,
            description_vi=_legend(0),
            description_en=_legend(1),
            sql=(
                f"SELECT {_few_values('name')} AS unit, day, {_few_values('status')} AS status"
                f" FROM ({STATUS}) ORDER BY unit, day"
            ),
        ),
        Panel(
            key="approval_grid",
            title_vi="Đã duyệt theo đơn vị và ngày",
            title_en="Approved by unit and day",
            kind="grid",
            width=24,
            height=12,
            description_vi=_approval_legend(0),
            description_en=_approval_legend(1),
            bands=APPROVAL_MARKS,
            sql=(
                f"SELECT {_few_values('unit')} AS unit, day, {_few_values('status')} AS status"
                f" FROM ({APPROVAL_GRID}) ORDER BY unit, day"
            ),
        ),
        Panel(
            key="approved_share",
            title_vi="Tỷ lệ đã duyệt theo huyện và ngày",
            title_en="Share approved by district and day",
            kind="table",
            description_vi="Đã duyệt hoặc tỉnh đã chấp nhận, trên số đơn vị đã báo cáo.",
            description_en="Approved or accepted by the province, of the units that reported.",
            sql=APPROVED_SHARE,
        ),
        Panel(
            key="approval_last_day",
            title_vi="Duyệt báo cáo ngày cuối kỳ",
            title_en="Approval of the last day's reports",
            kind="table",
            bands=APPROVAL_BANDS,
            sql=APPROVAL_LAST_DAY,
        ),
    ),
)
