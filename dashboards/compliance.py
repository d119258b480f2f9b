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

# Every (unit, day) that must report: active that day and assigned the dataset
# (DHIS2's "expected"); a closed or inactive unit is not expected.
_EXPECTED = (
    "SELECT u.unit_id AS unit_id, u.name AS name, d.day AS day"
    f" FROM units_current AS u CROSS JOIN (SELECT arrayJoin(arrayMap(i -> {FROM_DAY} + i,"
    f" range(toUInt32(dateDiff('day', {FROM_DAY}, {TO_DAY}) + 1)))) AS day) AS d"
    " WHERE has(u.datasets, '${dataset}') AND u.province_id = '${province}'"
    " AND ('${district}' = '' OR u.district_id = '${district}')"
    " AND u.active_from <= d.day AND (u.active_to IS NULL OR d.day <= u.active_to)"
)
# One row per expected (unit, day) with its status; "pending" until the deadline passes,
# as of the period's end when that is earlier than now (the viewer on a demo's clock).
# Reports are narrowed to the same units before reports_latest groups them: the filter
# reaches the reports table's sort key (unfiltered it grouped the nation's reports).
STATUS = (
    "SELECT e.unit_id AS unit_id, e.name AS name, e.day AS day,"
    " multiIf(r.found = 1, toString(r.timeliness),"
    f" least(now(), $__toTime) < toDateTime(e.day, '{TZ}') + INTERVAL {DEADLINE_HOUR} HOUR,"
    " 'pending',"
    " 'missing') AS status"
    f" FROM ({_EXPECTED}) AS e LEFT JOIN (SELECT unit_id, report_date, timeliness, 1 AS found"
    " FROM reports_latest WHERE dataset = '${dataset}'"
    f" AND {day_filter('report_date')}"
    f" AND {UNITS_IN}) AS r ON r.unit_id = e.unit_id AND r.report_date = e.day"
)

# The approval state of every reported unit-day of the period, within the filters; the
# unit filter reaches the reports that approval_status groups (its first subquery).
APPROVALS = (
    "SELECT unit_id, report_date, revision, state, approved_revision, changed_values,"
    " approval_id, by_name, reason, decided_at FROM approval_status"
    f" WHERE dataset = '${{dataset}}' AND {day_filter('report_date')} AND {UNITS_IN}"
)
# One row per expected (unit, day): the mark of its approval state, NULL if not reported.
APPROVAL_GRID = (
    "SELECT e.name AS unit, e.day AS day,"
    f" if(a.found = 1, transform(a.state, [{_STATE_CODES}], [{_STATE_MARKS}], '?'), NULL)"
    f" AS status FROM ({_EXPECTED}) AS e LEFT JOIN (SELECT unit_id, report_date, state,"
    f" 1 AS found FROM ({APPROVALS})) AS a ON a.unit_id = e.unit_id AND a.report_date = e.day"
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
            sql=(
                f"SELECT unit_id, name, status FROM ({STATUS})"
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
            sql=f"SELECT name AS unit, day, status FROM ({STATUS}) ORDER BY unit, day",
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
            sql=f"SELECT unit, day, status FROM ({APPROVAL_GRID}) ORDER BY unit, day",
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
