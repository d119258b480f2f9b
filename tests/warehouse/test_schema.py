"""The warehouse DDL: the single-server form is frozen, the cluster form is derived from it.

No ClickHouse cluster (nor Keeper) runs here, so the cluster DDL is checked by shape and
by ClickHouse's own parser (chDB's ``formatQuery``), and its views are run in chDB
against single-server tables.

If a schema change is intended, refresh the snapshot:
    .venv/bin/python -c "from warehouse.schema import statements as s; \
print(';\\n\\n'.join(s('baocao')) + ';')" > tests/warehouse/snapshots/schema-single-node.sql
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from contract.events import SourceRef
from contract.registry import Registry
from contract.settings import Settings
from sinks.rows import (
    REPORT_VALUES_COLUMNS,
    REPORTS_COLUMNS,
    ColumnBlock,
    ReportValues,
    report_row,
)
from tests.sinks.test_sink_rows import accepted
from warehouse import daily_reports, daily_values, schema
from warehouse.client import Warehouse
from warehouse.table import DEDUP_WINDOW
from warehouse.units import UNITS_COLUMNS

SNAPSHOT = Path(__file__).parent / "snapshots" / "schema-single-node.sql"
#: The rollups the warehouse fills from `reports`, each with its view and backfill.
ROLLUPS = {"daily_values": daily_values, "daily_reports": daily_reports}
CLUSTER = "prod"


def cluster_ddl(database: str = "baocao") -> list[str]:
    return schema.statements(database, CLUSTER)


def column_block(create: str) -> str:
    return create.split(" (\n", 1)[1].split("\n)\nENGINE")[0]


def test_single_server_ddl_is_byte_identical_to_the_snapshot() -> None:
    assert ";\n\n".join(schema.statements("baocao")) + ";\n" == SNAPSHOT.read_text("utf-8")


def test_single_server_ddl_has_no_cluster_parts() -> None:
    text = "\n".join(schema.statements("baocao"))
    for word in ("ON CLUSTER", "Replicated", "Distributed", "GLOBAL", "_local"):
        assert word not in text


def test_every_cluster_statement_runs_on_the_cluster() -> None:
    statements = cluster_ddl()
    assert statements[0] == f"CREATE DATABASE IF NOT EXISTS `baocao` ON CLUSTER `{CLUSTER}`"
    backfills = [s for s in statements if s.startswith("INSERT")]  # once, via Distributed
    assert len(backfills) == len(ROLLUPS)
    for backfill in backfills:
        assert "_local" not in backfill and "ON CLUSTER" not in backfill
    for statement in statements:
        if statement not in backfills:
            assert statement.splitlines()[0].count(f" ON CLUSTER `{CLUSTER}`") == 1, statement


@pytest.mark.parametrize("rollup", ROLLUPS)
def test_the_rollup_view_fills_the_local_table_from_the_local_reports(rollup: str) -> None:
    (view,) = [s for s in cluster_ddl() if f"`{rollup}_mv`" in s.splitlines()[0]]
    assert f"TO `baocao`.`{rollup}_local` AS" in view
    assert "FROM `baocao`.reports_local AS r" in view


@pytest.mark.parametrize("table", schema.TABLES.values(), ids=lambda t: t.name)
def test_each_table_is_replicated_behind_a_distributed_table(table: schema.Table) -> None:
    statements = cluster_ddl()
    head = "CREATE TABLE IF NOT EXISTS `baocao`.`{}` ON CLUSTER `prod`"
    (local,) = [s for s in statements if s.startswith(head.format(f"{table.name}_local"))]
    (dist,) = [s for s in statements if s.startswith(head.format(table.name))]
    assert statements.index(local) < statements.index(dist), "AS <local> needs it first"

    # Same columns and sorting key as on one server; replicated engine and dedup window.
    single = table.ddl("baocao")
    assert column_block(local) == column_block(single)
    engine = re.search(r"ENGINE = (\w+)\((.*)\)\n", local)
    assert engine is not None
    kind, args = engine.groups()
    assert kind == "Replicated" + table.engine.split("(")[0]
    assert args.startswith("'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'")
    if "(" in table.engine:  # e.g. the units table's version column survives
        assert args.endswith(", " + table.engine.split("(")[1].rstrip(")"))
    assert f"ORDER BY ({table.order_by})" in local
    assert f"SETTINGS replicated_deduplication_window = {DEDUP_WINDOW}" in local
    if table.index_granularity:  # a rollup's smaller marks, on every replica too
        assert local.endswith(f", index_granularity = {table.index_granularity}")

    # The Distributed table keeps the original name and shards by columns the table has.
    shard = re.fullmatch(
        rf"(?s).*AS `baocao`.`{table.name}_local`\n"
        rf"ENGINE = Distributed\('prod', 'baocao', '{table.name}_local', cityHash64\((.+)\)\)",
        dist,
    )
    assert shard is not None, dist
    assert {c.strip() for c in shard.group(1).split(",")} <= set(table.column_names)


def test_cluster_views_read_the_distributed_tables() -> None:
    single_views = schema.statements("baocao")[-len(schema.VIEW_NAMES) :]
    single = dict(zip(schema.VIEW_NAMES, single_views, strict=True))
    views = [s for s in cluster_ddl() if s.startswith("CREATE OR REPLACE VIEW")]
    assert len(views) == len(schema.VIEW_NAMES)
    for name, view in zip(schema.VIEW_NAMES, views, strict=True):
        assert "_local" not in view, f"{name} must read the Distributed tables"
        as_single = view.replace(f" ON CLUSTER `{CLUSTER}`", "").replace("GLOBAL IN", "IN")
        assert as_single == single[name]
    # A subquery on a Distributed table inside a distributed query is refused unless GLOBAL.
    assert not any(" IN (SELECT" in v and "GLOBAL IN" not in v for v in views)


# ---------------------------------------------------------------- against ClickHouse (chDB)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """One chDB directory for the module, closed at its end (one per process at a time)."""
    path = tmp_path_factory.mktemp("schema-warehouse")
    settings = Settings(_env_file=None, chdb_path=path, database="single")  # type: ignore[call-arg]
    with Warehouse.connect(settings) as wh:
        wh.ensure_schema()
        yield wh


def test_clickhouse_parses_every_cluster_statement(warehouse: Warehouse) -> None:
    for statement in cluster_ddl():
        formatted = warehouse.command("SELECT formatQuery({q:String})", {"q": statement})
        assert f"ON CLUSTER {CLUSTER}" in str(formatted) or statement.startswith("INSERT")


def test_cluster_view_bodies_run_against_single_server_tables(warehouse: Warehouse) -> None:
    # GLOBAL IN on a local table is plain IN, so chDB can run the cluster views' SQL.
    views = [s for s in cluster_ddl("single") if s.startswith("CREATE OR REPLACE VIEW")]
    for view in views:  # created as c_<name>, next to the single-server views
        local = view.replace(f" ON CLUSTER `{CLUSTER}`", "").replace(
            "`single`.`", "`single`.`c_", 1
        )
        warehouse.command(local)
    for name in schema.VIEW_NAMES:
        warehouse.query_rows(f"SELECT * FROM `single`.`c_{name}` LIMIT 1")
    for backfill in [s for s in cluster_ddl("single") if s.startswith("INSERT")]:
        warehouse.command(backfill)


@pytest.mark.parametrize("rollup", ROLLUPS)
def test_the_rollup_view_selects_the_tables_columns_in_order(
    warehouse: Warehouse, rollup: str
) -> None:
    # The view matches columns by name, the backfill's INSERT ... SELECT by position.
    view = ROLLUPS[rollup].statements("single")[0]
    select = view.split(" AS\n", 1)[1]
    described = warehouse.query_rows(f"DESCRIBE TABLE ({select})")
    assert tuple(row[0] for row in described) == schema.TABLES[rollup].column_names


# ---------------------------------------------------------------- the Warehouse in cluster mode


class RecordingClient:
    """Stands in for a clickhouse-connect client; records what the Warehouse sends."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, Any]] = []
        self.inserts: list[dict[str, Any]] = []
        self.database = ""

    def command(self, sql: str, parameters: Any = None) -> Any:
        self.commands.append((sql, parameters))
        return None

    def query(self, sql: str, parameters: Any = None) -> Any:
        if "system.tables" in sql:  # the layout check: no table made by an older version
            return SimpleNamespace(result_rows=[], column_names=["name", "p", "k"])
        return SimpleNamespace(result_rows=[(0,)], column_names=["v"])

    def insert(self, table: str, rows: Any, **kwargs: Any) -> None:
        self.inserts.append({"table": table, **kwargs})


def test_cluster_inserts_wait_for_every_shard_and_keep_the_dedup_token() -> None:
    client = RecordingClient()
    Warehouse(client, "baocao", cluster=CLUSTER).insert("alerts", [("a",)], ["alert_id"], "t-1")
    assert client.inserts[0]["settings"] == {
        "insert_deduplication_token": "t-1",
        "deduplicate_blocks_in_dependent_materialized_views": 1,
        "distributed_foreground_insert": 1,
    }
    client = RecordingClient()
    Warehouse(client, "baocao").insert("alerts", [("a",)], ["alert_id"], "t-1")
    assert client.inserts[0]["settings"] == {
        "insert_deduplication_token": "t-1",
        "deduplicate_blocks_in_dependent_materialized_views": 1,
    }


def test_cluster_schema_and_unit_cleanup_go_to_every_node() -> None:
    client = RecordingClient()
    wh = Warehouse(client, "baocao", cluster=CLUSTER)
    wh.ensure_schema()
    assert [sql for sql, _ in client.commands] == cluster_ddl()
    client.commands.clear()
    wh.load_units(Registry.load())
    (delete,) = [sql for sql, _ in client.commands if sql.startswith("DELETE")]
    assert delete.startswith(f"DELETE FROM `baocao`.units_local ON CLUSTER `{CLUSTER}` WHERE")
    assert client.inserts[0]["table"] == "units"  # through the Distributed table
    assert tuple(client.inserts[0]["column_names"]) == UNITS_COLUMNS


LatestRow = tuple[str, int, int, int, str, int]  # unit, report, revision, minute, metric, value


def write_reports(
    wh: Warehouse, day: str, rows: list[LatestRow], values: bool = True, reports: bool = True
) -> None:
    """Insert the report_values rows, then one `reports` row per report (as the sink does)."""
    rid = "'00000000-0000-0000-0000-0000000000{:02d}'".format
    if values:
        wh.command(
            "INSERT INTO single.report_values VALUES "
            + ", ".join(
                f"({rid(r)}, 'district-daily', '{unit}', '{day}', '{metric}', '', {value},"
                f" {rev}, 'on_time', '{day} 01:{minute:02d}:00', now())"
                for unit, r, rev, minute, metric, value in rows
            )
        )
    if not reports:
        return
    ids = {(unit, r, rev, minute) for unit, r, rev, minute, _, _ in rows}
    wh.command(
        "INSERT INTO single.reports (report_id, dataset, unit_id, report_date, revision,"
        " timeliness, submitted_at) VALUES "
        + ", ".join(
            f"({rid(r)}, 'district-daily', '{unit}', '{day}', {rev}, 'on_time',"
            f" '{day} 01:{minute:02d}:00')"
            for unit, r, rev, minute in sorted(ids)
        )
    )


def latest(wh: Warehouse, day: str) -> list[tuple[str, str, int, int, int]]:
    got = wh.query_rows(
        "SELECT unit_id, metric, value, revision, toString(report_id)"
        " FROM single.report_values_latest"
        f" WHERE dataset = 'district-daily' AND report_date = '{day}' ORDER BY unit_id, metric"
    )
    return [(unit, metric, value, rev, int(r[-2:])) for unit, metric, value, rev, r in got]


def test_latest_values_are_the_latest_reports_rows_only(warehouse: Warehouse) -> None:
    """Corrections replace a unit-day's numbers whole, also when they leave a metric out."""
    for table in ("report_values", "reports"):
        warehouse.command(f"TRUNCATE TABLE single.{table}")
    day, other_day = "2021-07-20", "2021-07-21"
    write_reports(
        warehouse,
        day,
        [
            ("a", 1, 1, 0, "cases_new", 5),
            ("a", 1, 1, 0, "tests_pcr", 10),
            ("a", 2, 2, 5, "cases_new", 7),  # the correction leaves tests_pcr out
            ("b", 3, 1, 0, "cases_new", 3),
            ("b", 4, 2, 5, "", 0),  # a revision with no values at all (marker row)
            ("c", 5, 1, 0, "cases_new", 2),
            ("c", 5, 1, 0, "cases_new", 2),  # the same row inserted twice
            ("d", 6, 1, 0, "cases_new", 1),
            ("d", 7, 1, 9, "cases_new", 4),  # two report_ids with revision 1: later wins
        ],
    )
    write_reports(warehouse, other_day, [("a", 8, 1, 0, "cases_new", 9)])
    assert latest(warehouse, day) == [
        ("a", "cases_new", 7, 2, 2),
        ("c", "cases_new", 2, 1, 5),
        ("d", "cases_new", 4, 1, 7),
    ]


def test_a_correction_shows_once_its_report_row_is_written(warehouse: Warehouse) -> None:
    """The sink writes values, then `reports`: in between, the previous revision shows whole.

    A reader never sees the correction's values mixed with the old ones, nor a unit-day
    emptied because its newest report has no values yet.
    """
    for table in ("report_values", "reports"):
        warehouse.command(f"TRUNCATE TABLE single.{table}")
    day = "2021-07-22"
    first = [("a", 10, 1, 0, "cases_new", 5), ("a", 10, 1, 0, "tests_pcr", 10)]
    correction = [("a", 11, 2, 5, "cases_new", 7)]  # tests_pcr left out
    write_reports(warehouse, day, first)
    write_reports(warehouse, day, correction, reports=False)  # the sink's first insert
    assert latest(warehouse, day) == [("a", "cases_new", 5, 1, 10), ("a", "tests_pcr", 10, 1, 10)]
    write_reports(warehouse, day, correction, values=False)
    assert latest(warehouse, day) == [("a", "cases_new", 7, 2, 11)]
    # A first report's values alone show nothing yet, rather than a report half-known.
    write_reports(warehouse, day, [("b", 12, 1, 0, "cases_new", 3)], reports=False)
    assert [row[0] for row in latest(warehouse, day)] == ["a"]


def test_column_blocks_store_instants_to_the_millisecond(warehouse: Warehouse) -> None:
    """The sink's column-oriented insert (ticks, not datetimes) lands the same instants."""
    submitted = datetime(2021, 7, 27, 7, 59, 59, 987_654, tzinfo=UTC)
    event = accepted(
        {"cases_new": 6}, unit_id="tick", submitted_at=submitted, accepted_at=submitted
    )
    block = ColumnBlock(len(REPORT_VALUES_COLUMNS))
    block.add(ReportValues(event))
    warehouse.insert("report_values", block.columns, REPORT_VALUES_COLUMNS, column_oriented=True)
    got = warehouse.query_rows(
        "SELECT submitted_at, accepted_at, value FROM single.report_values WHERE unit_id = 'tick'"
    )
    stored = submitted.replace(microsecond=987_000)
    assert [(a.astimezone(UTC), b.astimezone(UTC), v) for a, b, v in got] == [(stored, stored, 6)]


SIGNAL = "anomaly:quiet_days:173:cases_community:2021-07-27"


def signal_row(alert_id: str, state: str, minute: int, message: str = "m") -> str:
    return (
        f"('{SIGNAL}', '{alert_id}', 'quiet_days', 'cases_community', 'district-daily', '173',"
        f" 'district', '2021-07-27', '{state}', 'warning', '{message}', '{message}', '{{}}',"
        f" '2021-07-27 08:{minute:02d}:00')"
    )


def test_a_signal_shows_its_newest_state_once(warehouse: Warehouse) -> None:
    """Raised, withdrawn by a correction, raised again: the list shows the last, once."""
    warehouse.command("TRUNCATE TABLE single.signals")
    raised = signal_row(SIGNAL, "active", 0, "raised")
    warehouse.command(f"INSERT INTO single.signals VALUES {raised}, {raised}")  # redelivered
    warehouse.command(
        "INSERT INTO single.signals VALUES "
        + signal_row(f"{SIGNAL}:withdrawn:1", "withdrawn", 5, "withdrawn")
    )
    current = "SELECT state, alert_id, message_en, first_raised_at FROM single.signals_current"
    (only,) = warehouse.query_rows(current)
    assert only[:3] == ("withdrawn", f"{SIGNAL}:withdrawn:1", "withdrawn")
    warehouse.command(
        "INSERT INTO single.signals VALUES "
        + signal_row(f"{SIGNAL}:raised:2", "active", 9, "again")
    )
    (only,) = warehouse.query_rows(current + " WHERE unit_id = '173'")
    assert only[:3] == ("active", f"{SIGNAL}:raised:2", "again")
    assert only[3].minute == 0, "first_raised_at is the first raise"


def level_row(level: str, why: str, minute: int, day: str = "2021-09-20") -> str:
    return (
        f"('173', 'district', '{day}', 'day', 'qd4800', {level}, '{{}}', ['c2'],"
        f" '{why}', '{why}', '', '', '{day} 08:{minute:02d}:00')"
    )


def test_levels_latest_is_the_newest_assessment_of_each_unit_day(warehouse: Warehouse) -> None:
    warehouse.command("TRUNCATE TABLE single.levels")
    rows = [
        level_row("2", "first", 0),
        level_row("2", "first", 0),  # redelivered
        level_row("3", "late report", 7),  # re-assessed after a late report
        level_row("NULL", "no data", 0, day="2021-09-21"),
    ]
    warehouse.command("INSERT INTO single.levels VALUES " + ", ".join(rows))
    got = warehouse.query_rows(
        "SELECT level_date, level, why_en, unconfirmed FROM single.levels_latest"
        " WHERE unit_id = '173' AND profile = 'qd4800' ORDER BY level_date"
    )
    assert [(str(d), level, why, unconfirmed) for d, level, why, unconfirmed in got] == [
        ("2021-09-20", 3, "late report", ["c2"]),
        ("2021-09-21", None, "no data", ["c2"]),
    ]
    # Two assessments stamped with the same instant: the same one wins before and after a merge.
    warehouse.command("INSERT INTO single.levels VALUES " + level_row("4", "tie", 7))
    before = warehouse.query_rows(
        "SELECT level FROM single.levels_latest WHERE level_date = '2021-09-20'"
    )
    warehouse.command("OPTIMIZE TABLE single.levels FINAL")
    assert warehouse.query_rows("SELECT count() FROM single.levels")[0][0] == 4
    after = warehouse.query_rows(
        "SELECT level FROM single.levels_latest WHERE level_date = '2021-09-20'"
    )
    assert before == after


# ---------------------------------------------------------------- the daily rollup

REF = SourceRef(topic="reports.accepted", partition=0, offset=0)
DAY = date(2021, 7, 27)


def write_revision(
    wh: Warehouse, unit: str, revision: int, values: dict[str, int], timeliness: str = "on_time"
) -> None:
    """Insert one `reports` row as the sink does (its own block and token)."""
    at = datetime(2021, 7, 27, 7, tzinfo=UTC) + timedelta(minutes=revision)
    event = accepted(
        values,
        unit_id=unit,
        report_date=DAY,
        revision=revision,
        submitted_at=at,
        accepted_at=at,
        timeliness=timeliness,
    )
    event = event.model_copy(
        update={"report_id": uuid.uuid5(uuid.NAMESPACE_URL, f"{unit}/{revision}")}
    )
    wh.insert("reports", [report_row(event, REF)], REPORTS_COLUMNS, f"r/{unit}/{revision}")


def rollup(wh: Warehouse) -> dict[str, tuple[int, dict[str, int], dict[str, int]]]:
    rows = wh.query_rows(
        "SELECT unit_id, revision, counts, totals FROM single.daily_values FINAL"
        " WHERE dataset = 'district-daily' AND report_date = {d:Date}",
        {"d": DAY},
    )
    return {unit: (rev, dict(counts), dict(totals)) for unit, rev, counts, totals in rows}


def test_the_rollup_holds_each_unit_days_latest_revision_at_once(warehouse: Warehouse) -> None:
    """No merge runs here: FINAL alone must give the latest revision's values."""
    warehouse.command("TRUNCATE TABLE single.daily_values")
    warehouse.command("SYSTEM STOP MERGES single.daily_values")
    doses = {"vaccine_dose1.age_18_49": 40, "vaccine_dose1.age_65_plus": 2, "tests_pcr": 0}
    write_revision(warehouse, "a", 1, {"cases_new": 5, "tests_pcr": 10})
    write_revision(warehouse, "a", 2, {"cases_new": 7})  # leaves tests_pcr out
    write_revision(warehouse, "b", 1, {"cases_new": 3})
    write_revision(warehouse, "b", 2, {})  # withdraws every number
    write_revision(warehouse, "c", 2, doses)
    write_revision(warehouse, "c", 1, {"cases_new": 9})  # an older revision arriving late
    warehouse.insert(  # a redelivered batch: another block, another token
        "reports",
        warehouse.query_rows(
            f"SELECT {', '.join(REPORTS_COLUMNS)} FROM single.reports WHERE unit_id = 'c'"
        ),
        REPORTS_COLUMNS,
        "r/c/again",
    )
    assert rollup(warehouse) == {
        "a": (2, {"cases_new": 7}, {"cases_new": 7}),
        "b": (2, {}, {}),
        "c": (2, doses, {"vaccine_dose1": 42, "tests_pcr": 0}),
    }
    assert warehouse.query_rows("SELECT count() FROM single.daily_values")[0][0] == 7
    warehouse.command("SYSTEM START MERGES single.daily_values")


def test_init_fills_the_rollup_of_an_older_warehouse_once(warehouse: Warehouse) -> None:
    """Reports stored before the rollup existed are copied on the next start, only once."""
    warehouse.command("TRUNCATE TABLE single.daily_values")
    warehouse.command("DROP VIEW single.daily_values_mv")  # as an older version made it
    write_revision(warehouse, "e", 1, {"cases_new": 5})
    write_revision(warehouse, "f", 1, {"cases_new": 1, "deaths": 1})
    write_revision(warehouse, "f", 2, {"cases_new": 2})
    assert rollup(warehouse) == {}, "no view, no rollup"
    warehouse.ensure_schema()
    filled = rollup(warehouse)
    assert filled["e"] == (1, {"cases_new": 5}, {"cases_new": 5})
    assert filled["f"] == (2, {"cases_new": 2}, {"cases_new": 2})
    rows = warehouse.query_rows("SELECT count() FROM single.daily_values")[0][0]
    warehouse.ensure_schema()  # every start runs it again: nothing more to copy
    assert warehouse.query_rows("SELECT count() FROM single.daily_values")[0][0] == rows
    backfill = daily_values.statements("single")[1]
    select = backfill[backfill.index("\n") + 1 :]  # what it would insert
    assert warehouse.query_rows(f"SELECT count() FROM ({select})") == [(0,)]
    write_revision(warehouse, "f", 3, {"cases_new": 4})  # and the view is back
    assert rollup(warehouse)["f"] == (3, {"cases_new": 4}, {"cases_new": 4})


# ---------------------------------------------------------------- the report rollup


def latest_of(
    wh: Warehouse, units: tuple[str, ...], table: str = "daily_reports FINAL"
) -> dict[str, tuple[int, str]]:
    """Each unit's (revision, timeliness) on DAY: in the daily_reports rollup (FINAL), or
    in ``table`` (reports_latest groups every revision on each read)."""
    rows = wh.query_rows(
        f"SELECT unit_id, revision, timeliness FROM single.{table}"
        " WHERE dataset = 'district-daily' AND report_date = {d:Date}"
        " AND unit_id IN {u:Array(String)}",
        {"d": DAY, "u": list(units)},
    )
    return {unit: (revision, timeliness) for unit, revision, timeliness in rows}


def report_rollup(wh: Warehouse, units: tuple[str, ...]) -> dict[str, tuple[int, str]]:
    return latest_of(wh, units)


def latest_reports(wh: Warehouse, units: tuple[str, ...]) -> dict[str, tuple[int, str]]:
    return latest_of(wh, units, "reports_latest")


def test_the_report_rollup_names_each_unit_days_latest_revision_at_once(
    warehouse: Warehouse,
) -> None:
    """No merge runs here: FINAL alone must give what reports_latest gives."""
    warehouse.command("TRUNCATE TABLE single.daily_reports")
    warehouse.command("SYSTEM STOP MERGES single.daily_reports")
    write_revision(warehouse, "ra", 1, {"cases_new": 5})
    write_revision(warehouse, "ra", 2, {"cases_new": 7}, "late")  # a late correction
    write_revision(warehouse, "rb", 1, {"cases_new": 3}, "late")
    write_revision(warehouse, "rc", 3, {})  # withdraws every number: still reported
    write_revision(warehouse, "rc", 1, {"cases_new": 9}, "late")  # older, arriving late
    warehouse.insert(  # a redelivered batch: another block, another token
        "reports",
        warehouse.query_rows(
            f"SELECT {', '.join(REPORTS_COLUMNS)} FROM single.reports WHERE unit_id = 'rc'"
        ),
        REPORTS_COLUMNS,
        "r/rc/again",
    )
    units = ("ra", "rb", "rc", "rd")  # rd never reported
    assert report_rollup(warehouse, units) == {
        "ra": (2, "late"),
        "rb": (1, "late"),
        "rc": (3, "on_time"),
    }
    assert report_rollup(warehouse, units) == latest_reports(warehouse, units)
    # Unmerged: a row per revision and block (the redelivered block's two collapse on insert).
    assert warehouse.query_rows("SELECT count() FROM single.daily_reports")[0][0] == 6
    warehouse.command("SYSTEM START MERGES single.daily_reports")
    warehouse.command("OPTIMIZE TABLE single.daily_reports FINAL")  # merged: the same
    assert report_rollup(warehouse, units) == latest_reports(warehouse, units)


def test_init_fills_the_report_rollup_of_an_older_warehouse_once(warehouse: Warehouse) -> None:
    """Reports stored before the rollup existed are copied on the next start, only once."""
    warehouse.command("TRUNCATE TABLE single.daily_reports")
    warehouse.command("DROP VIEW single.daily_reports_mv")  # as an older version made it
    write_revision(warehouse, "re", 1, {"cases_new": 5}, "late")
    write_revision(warehouse, "rf", 1, {"cases_new": 1})
    write_revision(warehouse, "rf", 2, {"cases_new": 2}, "late")
    units = ("re", "rf")
    assert report_rollup(warehouse, units) == {}, "no view, no rollup"
    warehouse.ensure_schema()
    assert report_rollup(warehouse, units) == {"re": (1, "late"), "rf": (2, "late")}
    every = "SELECT count() FROM single.daily_reports"
    rows = warehouse.query_rows(every)[0][0]
    assert rows == warehouse.query_rows("SELECT count() FROM single.reports_latest")[0][0]
    warehouse.ensure_schema()  # every start runs it again: nothing more to copy
    assert warehouse.query_rows(every)[0][0] == rows
    backfill = daily_reports.statements("single")[1]
    select = backfill[backfill.index("\n") + 1 :]  # what it would insert
    assert warehouse.query_rows(f"SELECT count() FROM ({select})") == [(0,)]
    write_revision(warehouse, "rf", 3, {"cases_new": 4})  # and the view is back
    assert report_rollup(warehouse, units)["rf"] == (3, "on_time")
