"""Tình hình dịch — the province situation: cases, tests, vaccination, a map."""

from __future__ import annotations

from dashboards.common import DISTRICT, PROVINCE, TO_DAY, UNITS_IN, as_of, day_filter
from dashboards.model import Dashboard, Panel
from dashboards.signals import LEVEL_BANDS, active_signals, current_levels, units

# The year-long panels read the daily rollup (one row per unit-day of its latest
# revision, `totals` by metric; warehouse.daily_values), not report_values_latest, which
# chooses each unit-day's latest report on every read. FINAL makes it exact before
# merges. A series keeps only unit-days that reported one of its metrics, so its days
# (and a 7-day average over them) are those the values table would give.
_DAILY = (
    "FROM daily_values FINAL WHERE dataset = 'district-daily'"
    f" AND {day_filter('report_date')} AND {UNITS_IN}"
)

_SOURCES = ["cases_community", "cases_quarantined", "cases_unknown_source"]
_TESTS = ["tests_pcr", "tests_pcr_positive"]
_DOSES = ["vaccine_dose1", "vaccine_dose2", "vaccine_booster"]

_COMMUNITY = (
    "FROM daily_values FINAL WHERE dataset = 'district-daily'"
    f" AND totals['cases_community'] > 0 AND {UNITS_IN}"
)


def _sums(metrics: list[str]) -> str:
    """Return ``sum(totals['m']) AS m`` for each metric."""
    return ",\n  ".join(f"sum(totals['{m}']) AS {m}" for m in metrics)


def _reported(metrics: list[str]) -> str:
    """Return the filter keeping unit-days that reported any of ``metrics``."""
    return "hasAny(mapKeys(totals), [" + ", ".join(f"'{m}'" for m in metrics) + "])"


SITUATION = Dashboard(
    uid="baocao-situation",
    title_vi="Tình hình dịch",
    title_en="Epidemic situation",
    variables=(PROVINCE, DISTRICT),
    panels=(
        as_of(
            "SELECT accepted_at AS at FROM report_values WHERE dataset = 'district-daily'"
            f" AND {day_filter('report_date')} AND {UNITS_IN}"
        ),
        Panel(
            key="cases_total",
            title_vi="Ca mắc mới (trong kỳ)",
            title_en="New cases (period)",
            kind="stat",
            width=6,
            height=4,
            sql=f"SELECT sum(totals['cases_new']) AS cases_new {_DAILY}",
        ),
        Panel(
            key="days_since_community",
            title_vi="Số ngày từ ca cộng đồng gần nhất",
            title_en="Days since the last community case",
            kind="stat",
            width=6,
            height=4,
            # All history only when the last two weeks have no community case: else the
            # newest such day is among them, and reading them alone gives the same answer.
            sql=(
                "SELECT if(count() = 0, NULL, dateDiff('day', max(report_date),"
                f" {TO_DAY})) AS days {_COMMUNITY} AND report_date <= {TO_DAY}"
                f" AND report_date >= (SELECT if(count() = 0, toDate(0), {TO_DAY} - 13)"
                f" {_COMMUNITY} AND report_date BETWEEN {TO_DAY} - 13 AND {TO_DAY})"
            ),
        ),
        Panel(
            key="coverage",
            title_vi="Tiêm chủng: mũi 2 / dân số (%)",
            title_en="Vaccination: 2nd doses / population (%)",
            kind="stat",
            width=6,
            height=4,
            unit="percent",
            description_vi="Cộng dồn mũi 2 đến cuối kỳ chia cho dân số tỉnh (TĐTDS 2019).",
            description_en="Cumulative 2nd doses to the end of the period over the 2019 census.",
            sql=(
                "SELECT round(100 * (SELECT sum(totals['vaccine_dose2']) FROM daily_values FINAL"
                f" WHERE dataset = 'district-daily' AND report_date <= {TO_DAY}"
                " AND unit_id IN (SELECT unit_id"
                " FROM units_current WHERE province_id = '${province}'))"
                " / nullIf((SELECT sum(population) FROM units_current"
                " WHERE unit_id = '${province}'), 0), 2) AS dose2_pct"
            ),
        ),
        Panel(
            key="cases_by_source",
            title_vi="Ca mắc mới theo nguồn lây",
            title_en="New cases by source",
            kind="bar",
            sql=(
                "SELECT report_date AS day,\n  "
                + _sums(_SOURCES)
                + f"\n{_DAILY} AND {_reported(_SOURCES)} GROUP BY day ORDER BY day"
            ),
        ),
        Panel(
            key="cases_7d",
            title_vi="Ca mắc mới và trung bình 7 ngày",
            title_en="New cases and 7-day average",
            kind="timeseries",
            sql=(
                "SELECT day, cases_new, round(avg(cases_new) OVER (ORDER BY day"
                " ROWS BETWEEN 6 PRECEDING AND CURRENT ROW), 1) AS avg_7d FROM ("
                f"SELECT report_date AS day, sum(totals['cases_new']) AS cases_new {_DAILY}"
                " AND mapContains(totals, 'cases_new') GROUP BY day) ORDER BY day"
            ),
        ),
        Panel(
            key="tests",
            title_vi="Xét nghiệm RT-PCR và tỷ lệ dương tính (%)",
            title_en="RT-PCR tests and positivity (%)",
            kind="timeseries",
            right_axis=("positivity",),  # a few percent: on the tests' axis it is flat at 0
            sql=(
                "SELECT day, tests_pcr, tests_pcr_positive,"
                " round(100 * tests_pcr_positive / nullIf(tests_pcr, 0), 2) AS positivity"
                " FROM (SELECT report_date AS day,\n  "
                + _sums(_TESTS)
                + f"\n{_DAILY} AND {_reported(_TESTS)} GROUP BY day) ORDER BY day"
            ),
        ),
        Panel(
            key="vaccine",
            title_vi="Mũi tiêm vắc xin",
            title_en="Vaccine doses",
            kind="bar",
            sql=(
                "SELECT report_date AS day,\n  "
                + _sums(_DOSES)
                + f"\n{_DAILY} AND {_reported(_DOSES)} GROUP BY day ORDER BY day"
            ),
        ),
        Panel(
            key="map",
            title_vi="Bản đồ ca mắc mới theo huyện",
            title_en="Map of new cases by district",
            kind="map",
            width=24,
            height=10,
            # Sums the province's units only: the filter on unit_id reaches the rollup's
            # sort key (through daily_district_totals the whole nation was summed first;
            # bench/queries.py, docs/benchmarks.md).
            sql=(
                "SELECT u.name AS name, u.lat AS lat, u.lon AS lon, t.value AS value"
                " FROM units_current AS u LEFT JOIN (SELECT c.district_id AS district_id,"
                " sum(v.totals['cases_new']) AS value FROM daily_values AS v FINAL"
                " INNER JOIN units_current AS c ON c.unit_id = v.unit_id"
                " WHERE v.dataset = 'district-daily' AND mapContains(v.totals, 'cases_new')"
                f" AND {day_filter('v.report_date')} AND v.unit_id IN (SELECT unit_id"
                " FROM units_current WHERE province_id = '${province}')"
                " AND c.district_id IS NOT NULL GROUP BY district_id) AS t"
                " ON t.district_id = u.unit_id"
                " WHERE u.kind = 'district' AND u.province_id = '${province}'"
                " AND u.lat IS NOT NULL ORDER BY name"
            ),
        ),
        Panel(
            key="level_now",
            title_vi="Cấp độ dịch hiện tại: tỉnh và các huyện",
            title_en="Current epidemic level: province and districts",
            kind="table",
            height=9,
            bands=LEVEL_BANDS,
            description_vi="Bản đồ, diễn biến và ngưỡng: bảng «Cảnh báo & cấp độ dịch».",
            description_en="Map, history and thresholds: the «Signals & levels» dashboard.",
            sql=current_levels(
                units(
                    "province_id = '${province}' AND (kind = 'province' OR kind = 'district'"
                    " AND ('${district}' = '' OR unit_id = '${district}'))"
                ),
                brief=True,
            ),
        ),
        Panel(
            key="signals_now",
            title_vi="Tín hiệu đang hoạt động",
            title_en="Active signals",
            kind="table",
            height=9,
            description_vi="Chi tiết: bảng «Cảnh báo & cấp độ dịch».",
            description_en="Details: the «Signals & levels» dashboard.",
            sql=active_signals(UNITS_IN, brief=True),
        ),
    ),
)
