"""Grafana alert rules for missing reports and a low reporting rate, as provisioning JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dashboards.common import DEADLINE_HOUR, TZ
from dashboards.grafana import target
from dashboards.model import DATASOURCE_UID

RULES_PATH = Path(__file__).parent / "provisioning" / "alerting" / "baocao-rules.json"
#: Below this share of expected reports (in %) after the deadline, leadership is alerted.
LOW_RATE_PERCENT = 80

_DAY = f"toDate($__toTime, '{TZ}')"
# Every active unit and dataset it must report today, with whether a report came in;
# only counted once today's deadline has passed (before it, "missing" is only pending).
EXPECTED_TODAY = (
    "SELECT u.unit_id AS unit_id, ds AS dataset, r.found AS found"
    " FROM units_current AS u ARRAY JOIN u.datasets AS ds"
    " LEFT JOIN (SELECT unit_id, dataset, 1 AS found FROM reports_latest"
    f" WHERE report_date = {_DAY}) AS r ON r.unit_id = u.unit_id AND r.dataset = ds"
    f" WHERE u.active_from <= {_DAY} AND (u.active_to IS NULL OR {_DAY} <= u.active_to)"
    f" AND $__toTime >= toDateTime({_DAY}, '{TZ}') + INTERVAL {DEADLINE_HOUR} HOUR"
)
MISSING_SQL = f"SELECT countIf(found = 0) AS missing FROM ({EXPECTED_TODAY})"
RATE_SQL = (
    "SELECT if(count() = 0, 100, round(100 * countIf(found = 1) / count(), 1))"
    f" AS reporting_rate FROM ({EXPECTED_TODAY})"
)


def _rule(uid: str, title: str, sql: str, op: str, limit: float, summary: str) -> dict[str, Any]:
    return {
        "uid": uid,
        "title": title,
        "condition": "C",
        "data": [
            {
                "refId": "A",
                "relativeTimeRange": {"from": 600, "to": 0},
                "datasourceUid": DATASOURCE_UID,
                "model": target(sql),
            },
            {
                "refId": "C",
                "datasourceUid": "__expr__",
                "model": {
                    "refId": "C",
                    "type": "threshold",
                    "expression": "A",
                    "conditions": [{"evaluator": {"type": op, "params": [limit]}}],
                },
            },
        ],
        "noDataState": "OK",
        "execErrState": "Error",
        "for": "0m",
        "labels": {"service": "baocao", "severity": "warning"},
        "annotations": {"summary": summary},
    }


def rules() -> dict[str, Any]:
    """Return the alerting provisioning document (Grafana reads JSON as well as YAML)."""
    return {
        "apiVersion": 1,
        "groups": [
            {
                "orgId": 1,
                "name": "baocao-reporting",
                "folder": "baocao",
                "interval": "5m",
                "rules": [
                    _rule(
                        "baocao-missing-reports",
                        "Đơn vị chưa báo cáo / Missing reports",
                        MISSING_SQL,
                        "gt",
                        0,
                        "Có đơn vị chưa báo cáo sau hạn 15:00"
                        " / Units have not reported after the 15:00 deadline",
                    ),
                    _rule(
                        "baocao-low-reporting-rate",
                        "Tỷ lệ báo cáo thấp / Low reporting rate",
                        RATE_SQL,
                        "lt",
                        LOW_RATE_PERCENT,
                        f"Tỷ lệ báo cáo dưới {LOW_RATE_PERCENT}% sau hạn"
                        f" / Reporting rate below {LOW_RATE_PERCENT}% after the deadline",
                    ),
                ],
            }
        ],
    }


def render() -> str:
    """Return the rules as stable JSON text."""
    return json.dumps(rules(), ensure_ascii=False, indent=2) + "\n"
