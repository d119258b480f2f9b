"""Tuân thủ báo cáo — reporting compliance: on time, late, missing per unit and day."""

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
from dashboards.labels import LABELS, STATUS_MARKS
from dashboards.model import Dashboard, Panel


def _legend(lang: int) -> str:
    """The grid's marks named: "✓ Đúng hạn · T Trễ hạn · ✗ Thiếu · … Chưa đến hạn"."""
    return " · ".join(f"{mark} {LABELS[status][lang]}" for status, mark in STATUS_MARKS.items())


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
    ),
)
