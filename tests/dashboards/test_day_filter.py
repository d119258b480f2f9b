"""Day filters keep Vietnam's days, in Grafana and in the built-in viewer alike.

Grafana's ClickHouse plugin writes ``$__dateFilter``'s dates in its process's zone, UTC
in the Grafana image: before 07:00 in Vietnam a range ending now ended "yesterday" and
could start a day early. Every panel filters days through ``common.day_filter`` instead.
Here its SQL runs on chDB as the pinned plugin expands it (tests/support/grafana_sql.py)
and as the viewer binds it, at 03:00 and at 23:00 Vietnam time, over rows dated on both
sides of the local midnights.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboards.common import TZ, day_filter
from dashboards.errors import MacroError
from dashboards.macros import TimeRange, expand
from tests.support.grafana_sql import Span, expand_macros
from warehouse.client import Warehouse

VN = ZoneInfo(TZ)
DAY = date(2021, 8, 2)
TABLE = "day_filter_probe"
# Rows a day apart, around the range's first and last local midnights.
ROWS = [DAY + timedelta(days=n) for n in (-8, -7, -6, -1, 0, 1)]
SQL = f"SELECT report_date FROM {TABLE} WHERE {day_filter('report_date')} ORDER BY report_date"


@pytest.fixture(scope="module")
def probe(warehouse: Warehouse) -> Iterator[Warehouse]:
    warehouse.command(f"CREATE TABLE {TABLE} (report_date Date) ENGINE = Memory")
    warehouse.insert(TABLE, [[d] for d in ROWS], ["report_date"])
    yield warehouse
    warehouse.command(f"DROP TABLE {TABLE}")


def days_from_grafana(wh: Warehouse, sql: str, start: datetime, end: datetime) -> list[date]:
    return [row[0] for row in wh.query_rows(expand_macros(sql, Span(start, end)))]


def days_from_viewer(wh: Warehouse, first: date, now: datetime) -> list[date]:
    sql, params = expand(SQL, {}, TimeRange(first, now.date(), as_of=now))
    return [row[0] for row in wh.query_rows(sql, params)]


@pytest.mark.parametrize("hour", [3, 23], ids=["03:00", "23:00"])
@pytest.mark.parametrize("back", [0, 7], ids=["today-so-far", "last-7-days"])
def test_a_range_ending_now_keeps_the_local_days_in_grafana_and_the_viewer(
    probe: Warehouse, hour: int, back: int
) -> None:
    now = datetime.combine(DAY, time(hour), VN)
    first = DAY - timedelta(days=back)
    # Grafana's "Today so far" starts at the local midnight, "Last 7 days" 7 × 24 h back.
    start = now - timedelta(days=back) if back else datetime.combine(DAY, time(0), VN)
    wanted = [d for d in ROWS if first <= d <= DAY]  # today is in, tomorrow is not
    assert days_from_grafana(probe, SQL, start, now) == wanted
    assert days_from_viewer(probe, first, now) == wanted


def test_the_plugins_date_macro_loses_today_before_seven_in_the_morning(
    probe: Warehouse,
) -> None:
    # Why no panel uses it: at 03:00 in Vietnam it is still yesterday in UTC.
    now = datetime.combine(DAY, time(3), VN)
    start = datetime.combine(DAY, time(0), VN)
    old = f"SELECT report_date FROM {TABLE} WHERE $__dateFilter(report_date)"
    assert days_from_grafana(probe, old, start, now) == [DAY - timedelta(days=1)]
    with pytest.raises(MacroError, match="day_filter"):
        expand(old, {}, TimeRange(DAY, DAY, as_of=now))
