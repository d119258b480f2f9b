"""The macro expander binds every value as a parameter and refuses what it does not know."""

from __future__ import annotations

from datetime import date

import pytest

from dashboards.common import day_filter
from dashboards.errors import MacroError, VariableError
from dashboards.macros import TimeRange, expand

PERIOD = TimeRange(date(2021, 8, 1), date(2021, 8, 3))
VARS = {"province": "19", "district": ""}


def test_time_and_variables_become_parameters() -> None:
    sql, params = expand(
        f"SELECT 1 FROM t WHERE $__timeFilter(at) AND {day_filter('d')}"
        " AND p = '${province}' AND ('${district}' = '' OR x = '${district}')",
        VARS,
        PERIOD,
    )
    assert "'19'" not in sql and "$" not in sql
    assert "p = {var_province:String}" in sql
    local = "DateTime64(3, 'Asia/Ho_Chi_Minh')"
    assert (
        f"d BETWEEN toDate({{from_time:{local}}}, 'Asia/Ho_Chi_Minh')"
        f" AND toDate({{to_time:{local}}}, 'Asia/Ho_Chi_Minh')"
    ) in sql
    assert params["var_province"] == "19" and params["var_district"] == ""
    assert params["from_time"] == "2021-08-01 00:00:00.000"
    assert params["to_time"] == "2021-08-03 23:59:59.999"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT $__timeGroup(at, '1h')",  # a macro the viewer does not implement
        "SELECT 1 WHERE $__dateFilter(d)",  # Grafana's dates are UTC: common.day_filter
        "SELECT ${province}",  # unquoted: Grafana would paste it bare into SQL
        "SELECT '$province'",
        "SELECT '${dataset}'",  # a variable without a value
    ],
)
def test_unknown_macros_and_variables_are_refused(sql: str) -> None:
    with pytest.raises(MacroError):
        expand(sql, VARS, PERIOD)


@pytest.mark.parametrize(
    "values",
    [{"province": "19' OR '1'='1"}, {"province": ""}, {"district": "D1 --"}, {"evil": "1"}],
)
def test_bad_values_are_refused(values: dict[str, str]) -> None:
    with pytest.raises(VariableError) as err:
        expand("SELECT '${province}'", {**VARS, **values}, PERIOD)
    assert " / " in str(err.value)  # Vietnamese and English


def test_period_limits() -> None:
    with pytest.raises(VariableError):
        TimeRange.parse("2021-08-03", "2021-08-01")
    with pytest.raises(VariableError):
        TimeRange.parse("2020-01-01", "2021-08-01")
    assert TimeRange.parse("2021-08-01", "2021-08-01").end == date(2021, 8, 1)
