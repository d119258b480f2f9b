"""The panels the year benchmark times give the straightforward queries' answers.

The compliance panels read the ``daily_reports`` rollup per unit (not reports_latest per
unit-day) and the approval grid reads ``approval_states`` (not approval_status). Here a
small fill of the benchmark's kind (late reports, corrections, rejections; two
provinces, three weeks) gets decisions of every kind and corrections after them, with
merges stopped, and each panel must give exactly the rows of the query it replaced,
written here the plain way: every unit-day joined to its latest report.

chDB opens one directory per process, so this module has its own warehouse and lives
outside tests/dashboards, whose package warehouse is open while its tests run.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bench.queries import CORRECTED, correct_last_day
from bench.warehouse_fill import Year, fill
from contract.settings import Settings
from dashboards.catalog import by_uid
from dashboards.common import DEADLINE_HOUR, FROM_DAY, TO_DAY, TZ, UNITS_IN, day_filter
from dashboards.compliance import _STATE_CODES, _STATE_MARKS
from dashboards.macros import TimeRange, expand
from dashboards.model import Panel
from dashboards.query import run_panel
from sinks.rows import REPORT_VALUES_COLUMNS, REPORTS_COLUMNS
from warehouse.client import Warehouse

START = date(2021, 8, 1)
DAYS = 21
LAST = START + timedelta(days=DAYS - 1)
VARS = {"province": "19", "district": "", "dataset": "district-daily"}

# ------------------------------------------------------------ the straightforward queries

_EXPECTED = (
    "SELECT u.unit_id AS unit_id, u.name AS name, d.day AS day"
    f" FROM units_current AS u CROSS JOIN (SELECT arrayJoin(arrayMap(i -> {FROM_DAY} + i,"
    f" range(toUInt32(dateDiff('day', {FROM_DAY}, {TO_DAY}) + 1)))) AS day) AS d"
    " WHERE has(u.datasets, '${dataset}') AND u.province_id = '${province}'"
    " AND ('${district}' = '' OR u.district_id = '${district}')"
    " AND u.active_from <= d.day AND (u.active_to IS NULL OR d.day <= u.active_to)"
)
_IN_PERIOD = f"dataset = '${{dataset}}' AND {day_filter('report_date')} AND {UNITS_IN}"
#: Each expected unit-day joined to its latest report (reports_latest groups revisions).
_STATUS = (
    "SELECT e.unit_id AS unit_id, e.name AS name, e.day AS day,"
    " multiIf(r.found = 1, toString(r.timeliness),"
    f" least(now(), $__toTime) < toDateTime(e.day, '{TZ}') + INTERVAL {DEADLINE_HOUR} HOUR,"
    " 'pending', 'missing') AS status"
    f" FROM ({_EXPECTED}) AS e LEFT JOIN (SELECT unit_id, report_date, timeliness, 1 AS found"
    f" FROM reports_latest WHERE {_IN_PERIOD}) AS r"
    " ON r.unit_id = e.unit_id AND r.report_date = e.day"
)
#: ... and to its state in approval_status (the latest revision from `reports`).
_APPROVAL_GRID = (
    "SELECT e.name AS unit, e.day AS day,"
    f" if(a.found = 1, transform(a.state, [{_STATE_CODES}], [{_STATE_MARKS}], '?'), NULL)"
    f" AS status FROM ({_EXPECTED}) AS e LEFT JOIN (SELECT unit_id, report_date, state,"
    f" 1 AS found FROM approval_status WHERE {_IN_PERIOD}) AS a"
    " ON a.unit_id = e.unit_id AND a.report_date = e.day"
)
PLAIN = {
    "counts": (
        "SELECT count() AS expected, countIf(status = 'on_time') AS on_time,"
        " countIf(status = 'late') AS late, countIf(status = 'missing') AS missing,"
        f" countIf(status = 'pending') AS pending FROM ({_STATUS})"
    ),
    "rates": (
        "SELECT day, round(100 * countIf(status IN ('on_time', 'late')) / count(), 1)"
        " AS reporting_rate, round(100 * countIf(status = 'on_time') / count(), 1)"
        f" AS timeliness FROM ({_STATUS}) GROUP BY day ORDER BY day"
    ),
    "missing_now": (
        f"SELECT unit_id, name, status FROM ({_STATUS})"
        f" WHERE day = {TO_DAY} AND status IN ('missing', 'pending') ORDER BY unit_id"
    ),
    "grid": f"SELECT name AS unit, day, status FROM ({_STATUS}) ORDER BY unit, day",
    "approval_grid": f"SELECT unit, day, status FROM ({_APPROVAL_GRID}) ORDER BY unit, day",
}

# ------------------------------------------------------------------------------ the fill

#: Decisions on about a third of the reported unit-days, as the province's staff would:
#: approve, accept or return the revision they saw, some of them the one before the
#: latest (then corrected: reopened, or submitted again after a return), some twice.
_DECIDE = """
INSERT INTO approvals (approval_id, action, dataset, unit_id, report_date, revision,
    values_json, by_name, by_unit, reason, decided_at)
SELECT concat('{tag}/', unit_id, '/', toString(report_date)),
    ['approve', 'accept', 'return'][1 + cityHash64(unit_id, report_date, '{tag}') % 3],
    dataset, unit_id, report_date,
    if(revision > 1 AND cityHash64(unit_id, report_date) % 2 = 0, revision - 1, revision),
    '{{}}', 'Cán bộ tỉnh', '19', '',
    toDateTime64(report_date, 3, 'UTC') + toIntervalHour({hours})
FROM reports_latest
WHERE cityHash64(unit_id, report_date) % 3 = 0 {more}"""


def flip_timeliness(wh: Warehouse, day: date) -> None:
    """Write a next revision of a quarter of ``day``'s unit-days with the other timeliness.

    The sink keeps a unit-day's first timeliness; flipping it makes a read that took
    any revision but the latest show a different status.
    """
    latest = (
        "(r.unit_id, r.revision) IN (SELECT unit_id, revision FROM reports_latest"
        " WHERE report_date = {d:Date}) AND cityHash64(r.unit_id) % 4 = 0"
    )
    changed = {
        "report_id": "reinterpretAsUUID(MD5(concat(toString(r.report_id), '/flip')))",
        "revision": "r.revision + 1",
        "submitted_at": "r.submitted_at + toIntervalMinute(1)",
        "timeliness": "if(r.timeliness = 'late', 'on_time', 'late')",
    }
    for table, names in (("report_values", REPORT_VALUES_COLUMNS), ("reports", REPORTS_COLUMNS)):
        columns = ", ".join(changed.get(c, f"r.{c}") + f" AS {c}" for c in names)
        wh.command(
            f"INSERT INTO {table} SELECT {columns} FROM {table} AS r"
            f" WHERE r.report_date = {{d:Date}} AND {latest}",
            {"d": day},
        )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    path: Path = tmp_path_factory.mktemp("year-warehouse")
    settings = Settings(warehouse="chdb", chdb_path=path, database="year")
    with Warehouse.connect(settings) as wh:
        wh.ensure_schema()
        fill(wh, Year(("19", "24"), START, DAYS))
        wh.command(_DECIDE.format(tag="first", hours=20, more=""))
        # a later decision on some of them (approvals_latest keeps the newest)
        wh.command(
            _DECIDE.format(tag="second", hours=30, more="AND toDayOfMonth(report_date) % 2 = 0")
        )
        # corrections after the decisions, unmerged (the rollups' parts stay apart)
        for day in (START + timedelta(days=3), LAST - timedelta(days=1), LAST):
            correct_last_day(wh, day, 3)
        flip_timeliness(wh, START + timedelta(days=3))
        yield wh
        for table in CORRECTED:
            wh.command(f"SYSTEM START MERGES {table}")


def periods() -> list[Any]:
    seen = datetime.combine(LAST, datetime.min.time(), ZoneInfo(TZ)) + timedelta(hours=11)
    return [
        pytest.param(TimeRange(START, LAST), id="all"),
        pytest.param(TimeRange(LAST - timedelta(days=13), LAST), id="14d"),
        pytest.param(TimeRange(START, LAST, as_of=seen), id="seen-before-the-deadline"),
    ]


def plain(wh: Warehouse, sql: str, values: dict[str, str], period: TimeRange) -> list[Any]:
    query, params = expand(sql, values, period)
    return [tuple(row) for row in wh.query_rows(query, params)]


def compliance_panel(key: str) -> Panel:
    dashboard = by_uid("baocao-compliance")
    assert dashboard is not None
    return dashboard.panel(key)


def test_the_fill_has_what_the_answers_depend_on(warehouse: Warehouse) -> None:
    # unmerged corrections, every approval state, late and missing unit-days
    parts = warehouse.query_rows(
        "SELECT count() FROM daily_reports WHERE report_date = {d:Date}", {"d": LAST}
    )[0][0]
    latest = warehouse.query_rows(
        "SELECT count() FROM reports_latest WHERE report_date = {d:Date}", {"d": LAST}
    )[0][0]
    assert parts > latest > 0
    flipped = warehouse.query_rows(
        "SELECT count() FROM (SELECT unit_id FROM reports WHERE report_date = {d:Date}"
        " GROUP BY unit_id HAVING uniqExact(timeliness) = 2)",
        {"d": START + timedelta(days=3)},
    )[0][0]
    assert flipped > 0
    states = {s for (s,) in warehouse.query_rows("SELECT DISTINCT state FROM approval_status")}
    assert states == {"submitted", "approved", "accepted", "returned", "reopened"}
    grid = run_panel(warehouse, compliance_panel("grid"), VARS, TimeRange(START, LAST))
    assert {"on_time", "late", "missing"} <= {row[2] for row in grid["rows"]}


@pytest.mark.parametrize("period", periods())
@pytest.mark.parametrize("district", ["", "district"])
@pytest.mark.parametrize("key", list(PLAIN))
def test_a_compliance_panel_gives_the_straightforward_answer(
    warehouse: Warehouse, key: str, district: str, period: TimeRange
) -> None:
    values = dict(VARS)
    if district:  # the first district of the province that has communes
        values["district"] = warehouse.query_rows(
            "SELECT min(district_id) FROM units_current WHERE province_id = '19'"
            " AND kind = 'commune'"
        )[0][0]
    want = plain(warehouse, PLAIN[key], values, period)
    got = run_panel(warehouse, compliance_panel(key), values, period)["rows"]
    assert [tuple(_plain_cell(v) for v in row) for row in want] == [tuple(r) for r in got]


def _plain_cell(value: Any) -> Any:
    """A value as run_panel returns it (dates as ISO text)."""
    return value.isoformat() if isinstance(value, date) else value


#: The map as it read before: the province's unit-days each joined to their district.
PLAIN_MAP = (
    "SELECT u.name AS name, u.lat AS lat, u.lon AS lon, t.value AS value"
    " FROM units_current AS u LEFT JOIN (SELECT c.district_id AS district_id,"
    " sum(v.value) AS value FROM report_values_latest AS v"
    " INNER JOIN units_current AS c ON c.unit_id = v.unit_id"
    " WHERE v.dataset = 'district-daily' AND v.metric = 'cases_new'"
    f" AND {day_filter('v.report_date')} AND c.district_id IS NOT NULL"
    " GROUP BY district_id) AS t ON t.district_id = u.unit_id"
    " WHERE u.kind = 'district' AND u.province_id = '${province}'"
    " AND u.lat IS NOT NULL ORDER BY name"
)


@pytest.mark.parametrize("period", periods()[:2])
def test_the_map_gives_the_latest_values_answer(warehouse: Warehouse, period: TimeRange) -> None:
    situation = by_uid("baocao-situation")
    assert situation is not None
    want = plain(warehouse, PLAIN_MAP, VARS, period)
    got = run_panel(warehouse, situation.panel("map"), VARS, period)["rows"]
    assert any(row[3] for row in want)
    assert want == [tuple(row) for row in got]


@pytest.mark.parametrize("uid", ["baocao-compliance", "baocao-situation"])
def test_an_answer_does_not_depend_on_the_query_before_it(warehouse: Warehouse, uid: str) -> None:
    # chDB 26's join runtime filters once kept an empty province's filter for the next
    # run of the same query (a map rewritten to sum per unit first returned no rows).
    dashboard = by_uid(uid)
    assert dashboard is not None
    period = TimeRange(START, LAST)
    for panel in dashboard.panels:
        before = run_panel(warehouse, panel, VARS, period)
        run_panel(warehouse, panel, {**VARS, "province": "99"}, period)  # no such units
        assert run_panel(warehouse, panel, VARS, period) == before, panel.key
