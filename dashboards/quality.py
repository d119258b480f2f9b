"""Chất lượng dữ liệu — data quality: rejections, warnings, corrections and their reasons."""

from __future__ import annotations

from dashboards.common import DISTRICT, PROVINCE, UNITS_IN, as_of, day_filter
from dashboards.model import Dashboard, Panel

_REJECTED = f"FROM rejections WHERE $__timeFilter(rejected_at) AND {UNITS_IN}"
_REPORTS = f"FROM reports WHERE {day_filter('report_date')} AND {UNITS_IN}"

QUALITY = Dashboard(
    uid="baocao-quality",
    title_vi="Chất lượng dữ liệu",
    title_en="Data quality",
    variables=(PROVINCE, DISTRICT),
    panels=(
        as_of(
            f"SELECT accepted_at AS at {_REPORTS} UNION ALL SELECT rejected_at AS at {_REJECTED}"
        ),
        Panel(
            key="rejections_by_rule",
            title_vi="Báo cáo bị từ chối theo quy tắc",
            title_en="Rejections by rule",
            kind="bar",
            # uniqExact: a redelivered rejection is one row until parts merge
            sql=(
                "SELECT arrayJoin(rule_ids) AS rule_id, uniqExact(rejection_id) AS rejections"
                f" {_REJECTED} GROUP BY rule_id ORDER BY rejections DESC, rule_id"
            ),
        ),
        Panel(
            key="warnings_by_rule",
            title_vi="Cảnh báo theo quy tắc",
            title_en="Warnings by rule",
            kind="bar",
            sql=(
                "SELECT arrayJoin(warning_rules) AS rule_id, uniqExact(report_id) AS reports"
                f" {_REPORTS} GROUP BY rule_id ORDER BY reports DESC, rule_id"
            ),
        ),
        Panel(
            key="revisions",
            title_vi="Báo cáo lần đầu và bản sửa theo ngày",
            title_en="First reports and corrections by day",
            kind="bar",
            sql=(
                "SELECT report_date AS day, uniqExactIf(report_id, revision = 1) AS first_reports,"
                f" uniqExactIf(report_id, revision > 1) AS corrections {_REPORTS}"
                " GROUP BY day ORDER BY day"
            ),
        ),
        Panel(
            key="late_corrections",
            title_vi="Sửa sau hạn và lý do",
            title_en="Corrections after the deadline, with reasons",
            kind="table",
            width=24,
            sql=(
                "SELECT report_date, unit_id, dataset, revision,"
                " formatDateTime(submitted_at, '%Y-%m-%d %H:%i', 'Asia/Ho_Chi_Minh') AS submitted,"
                f" submitted_by, reason {_REPORTS} AND revision > 1 AND submitted_at >= deadline"
                " ORDER BY report_date, unit_id, revision LIMIT 1 BY report_id"
            ),
        ),
    ),
)
