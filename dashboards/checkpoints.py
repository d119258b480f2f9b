"""Chốt kiểm soát — checkpoints: people and vehicles screened, tests, quarantine."""

from __future__ import annotations

from dashboards.common import (
    DISTRICT,
    PROVINCE,
    UNITS_IN,
    as_of,
    day_filter,
    metric_sums,
    metrics_in,
)
from dashboards.model import Dashboard, Panel

METRICS = [
    "people_screened",
    "vehicles_screened",
    "from_epidemic_areas",
    "sent_to_quarantine",
    "tests_antigen",
    "tests_antigen_positive",
    "violations",
]
_LATEST = (
    "FROM report_values_latest WHERE dataset = 'checkpoint-daily'"
    f" AND {day_filter('report_date')} AND {UNITS_IN}"
)

CHECKPOINTS = Dashboard(
    uid="baocao-checkpoints",
    title_vi="Chốt kiểm soát",
    title_en="Checkpoints",
    variables=(PROVINCE, DISTRICT),
    panels=(
        as_of(
            "SELECT accepted_at AS at FROM report_values WHERE dataset = 'checkpoint-daily'"
            f" AND {day_filter('report_date')} AND {UNITS_IN}"
        ),
        Panel(
            key="screened_total",
            title_vi="Người được kiểm tra (trong kỳ)",
            title_en="People screened (period)",
            kind="stat",
            width=6,
            height=4,
            sql=f"SELECT sum(value) AS people_screened {_LATEST} AND metric = 'people_screened'",
        ),
        Panel(
            key="positives_total",
            title_vi="Test nhanh dương tính (trong kỳ)",
            title_en="Positive antigen tests (period)",
            kind="stat",
            width=6,
            height=4,
            sql=(
                f"SELECT sum(value) AS tests_antigen_positive {_LATEST}"
                " AND metric = 'tests_antigen_positive'"
            ),
        ),
        Panel(
            key="screened",
            title_vi="Kiểm tra theo ngày",
            title_en="Screening by day",
            kind="timeseries",
            sql=(
                "SELECT report_date AS day,\n  "
                + metric_sums(METRICS[:4])
                + f"\n{_LATEST} AND {metrics_in(METRICS[:4])} GROUP BY day ORDER BY day"
            ),
        ),
        Panel(
            key="by_checkpoint",
            title_vi="Theo chốt",
            title_en="By checkpoint",
            kind="table",
            width=24,
            sql=(
                "SELECT u.name AS checkpoint,\n  "
                + metric_sums(METRICS, value="v.value")
                + "\nFROM (SELECT unit_id, metric, value "
                + _LATEST
                + ") AS v INNER JOIN units_current AS u ON u.unit_id = v.unit_id"
                " GROUP BY checkpoint ORDER BY checkpoint"
            ),
        ),
    ),
)
