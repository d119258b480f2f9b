"""Every SQL statement baocao's server path sends, through ClickHouse with the server's settings.

No ClickHouse server runs here; chDB is the same engine. Each statement is parsed
(``EXPLAIN AST``) under the settings the server applies to the user who sends it, and
each SELECT also runs against the schema with no reports in it, which catches unknown
tables, columns and functions and type errors. The cluster DDL is only parsed (chDB has
no cluster). The statements: the DDL (warehouse/schema.py); Grafana's provisioned panels,
variables and alert rules as its ClickHouse plugin expands them, run as its read-only
user (tests/support/grafana_sql.py); and every reader of the web service, the CLI, the
brief and the sink's start-up, recorded as they run (tests/support/server_sql.py). Each
failure names the statement's origin.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import clickhouse_connect
import pytest

from contract.datasets import Catalog
from contract.registry import Registry
from sinks.clickhouse import TABLE_ORDER
from tests.support import grafana_sql, server_sql
from tests.support.grafana_sql import Sent
from warehouse import schema
from warehouse.client import Warehouse

CLUSTER = "prod"


@dataclass
class Server:
    """Two sessions on one chDB: baocao's user and Grafana's read-only one."""

    database: str
    baocao: Any
    grafana: Any
    recorder: server_sql.Recorder
    failures: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Run every reader once through a recorder, on the empty schema it creates itself."""
    path = tmp_path_factory.mktemp("server-sql")
    database = server_sql.grafana_user()[1]
    baocao = clickhouse_connect.get_client(
        interface="chdb", path=str(path), settings=server_sql.server_defaults()
    )
    recorder = server_sql.Recorder(baocao)
    wh = Warehouse(recorder, database)
    failures = []
    readers = server_sql.readers(Registry.load(), Catalog.load(), path / "briefs")
    for label, read in readers:
        recorder.label = label
        try:
            read(wh)
        except Exception as exc:  # every reader's failure is reported, not only the first
            last = recorder.sent[-1] if recorder.sent else Sent("?", "")
            failures.append(f"{last.origin}: {_first_lines(exc)}\n    {_head(last.sql)}")
    recorder.label = ""
    grafana = clickhouse_connect.get_client(
        interface="chdb",
        path=str(path),
        database=database,
        settings={**server_sql.server_defaults(), **server_sql.grafana_profile()},
    )
    try:
        yield Server(database, baocao, grafana, recorder, failures)
    finally:
        grafana.close()
        baocao.close()


def _first_lines(exc: BaseException, lines: int = 2) -> str:
    text = str(exc).strip().splitlines()
    return " ".join(text[:lines])


def _head(sql: str, size: int = 240) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= size else flat[:size] + " …"


def _parse(client: Any, sql: str, parameters: Mapping[str, Any] | None = None) -> str | None:
    """ClickHouse's parser's complaint about ``sql`` under the client's settings, or None."""
    try:
        client.query(f"EXPLAIN AST {sql}", parameters=dict(parameters or {}))
    except Exception as exc:  # the driver wraps ClickHouse's error
        return _first_lines(exc)
    return None


def _report(problems: list[str], what: str) -> str:
    return f"{len(problems)} {what}:\n" + "\n".join(problems)


# ---------------------------------------------------------------- what the checks mirror


def test_the_checks_mirror_the_pinned_server_plugin_and_readonly_profile(server: Server) -> None:
    version = server.baocao.command("SELECT version()")
    pinned = server_sql.server_version()
    have = tuple(int(p) for p in str(version).split(".")[:2])
    assert have >= tuple(int(p) for p in pinned.split(".")), (
        f"chDB {version} is older than the server {pinned}: `compatibility` cannot mirror it"
    )
    preinstall = server_sql.compose_service("grafana")["environment"]["GF_PLUGINS_PREINSTALL_SYNC"]
    assert grafana_sql.PLUGIN in preinstall.split(","), (
        f"Grafana installs {preinstall}; tests/support/grafana_sql.py mirrors the macros of"
        f" {grafana_sql.PLUGIN}: compare pkg/macros/macros.go of the new release and update"
    )
    assert server_sql.grafana_profile().get("readonly") in ("1", "2")


def test_the_server_settings_are_in_force(server: Server) -> None:
    assert server.baocao.command("SELECT getSetting('compatibility')") == (
        server_sql.server_version()
    )
    for name, value in server_sql.grafana_profile().items():
        got = server.grafana.command("SELECT toString(getSetting({n:String}))", {"n": name})
        assert str(got) == value, name
    for write in (
        f"CREATE TABLE `{server.database}`.probe (a UInt8) ENGINE = Memory",
        f"INSERT INTO `{server.database}`.alerts (alert_id) VALUES ('probe')",
    ):
        with pytest.raises(Exception, match=r"READONLY"):
            server.grafana.command(write)


# ---------------------------------------------------------------- the DDL


def test_the_single_node_ddl_is_sent_and_parses(server: Server) -> None:
    sent = [s for s in server.recorder.sent if ":Warehouse.ensure_schema" in s.origin]
    assert [s.sql for s in sent] == schema.statements(server.database)
    problems = [
        f"{s.origin} statement {n}: {err}\n    {_head(s.sql)}"
        for n, s in enumerate(sent, start=1)
        if (err := _parse(server.baocao, s.sql)) is not None
    ]
    assert not problems, _report(problems, "DDL statements do not parse")


def test_the_cluster_ddl_parses(server: Server) -> None:
    problems = [
        f"warehouse/schema.py statements(cluster) {n}: {err}\n    {_head(sql)}"
        for n, sql in enumerate(schema.statements(server.database, CLUSTER), start=1)
        if (err := _parse(server.baocao, sql)) is not None
    ]
    assert not problems, _report(problems, "cluster DDL statements do not parse")


# ---------------------------------------------------------------- the service, CLI and brief


def test_every_reader_runs_against_the_empty_schema(server: Server) -> None:
    assert not server.failures, _report(server.failures, "readers failed")


def test_every_statement_sent_parses_under_the_server_settings(server: Server) -> None:
    problems = [
        f"{s.origin}: {err}\n    {_head(s.sql)}"
        for s in server.recorder.sent
        if (err := _parse(server.baocao, s.sql, s.parameters)) is not None
    ]
    assert not problems, _report(problems, "statements do not parse")


def test_every_function_that_sends_sql_is_run_here(server: Server) -> None:
    ran = {s.origin.split(" via ")[0] for s in server.recorder.sent}
    missing = sorted(server_sql.senders() - ran)
    assert not missing, (
        "these functions send SQL to the warehouse but no reader in"
        " tests/support/server_sql.py:readers runs them:\n" + "\n".join(missing)
    )


class _InsertSettings:
    """Stands in for a client: keeps what ``Warehouse.insert`` asks the driver for."""

    database = ""

    def __init__(self) -> None:
        self.settings: dict[str, Any] = {}

    def insert(self, table: str, rows: Any, **kwargs: Any) -> None:
        self.settings.update(kwargs.get("settings") or {})


def test_inserts_parse_and_their_settings_exist_on_the_server(server: Server) -> None:
    client = _InsertSettings()
    Warehouse(client, server.database, cluster=CLUSTER).insert("alerts", [("a",)], ["x"], "t")
    asked = dict(client.settings)
    tables = list(TABLE_ORDER)
    for table, columns, settings in server.recorder.inserts:
        asked.update(settings)
        tables.append((table, tuple(columns)))
    problems = []
    for name in sorted(asked):
        found = server.baocao.query(
            "SELECT is_obsolete FROM system.settings WHERE name = {n:String}", {"n": name}
        ).result_rows
        if not found or found[0][0]:
            problems.append(
                f"warehouse/client.py:Warehouse.insert setting {name}: unknown or obsolete"
            )
    for table, columns in tables:
        names = ", ".join(f"`{c}`" for c in columns)
        sql = f"INSERT INTO `{server.database}`.`{table}` ({names}) FORMAT Native"
        if (err := _parse(server.baocao, sql)) is not None:
            problems.append(f"insert into {table}: {err}")
    assert not problems, _report(problems, "insert problems")


# ---------------------------------------------------------------- Grafana


def test_every_grafana_query_parses_and_runs_as_its_readonly_user(server: Server) -> None:
    statements = grafana_sql.grafana_statements()
    assert statements
    problems = []
    for s in statements:
        err = _parse(server.grafana, s.sql)
        if err is None:
            try:
                server.grafana.query(s.sql)
            except Exception as exc:  # the driver wraps ClickHouse's error
                err = _first_lines(exc)
        if err is not None:
            problems.append(f"{s.origin}: {err}\n    {_head(s.sql)}")
    assert not problems, _report(problems, "Grafana queries fail")


def test_the_plugin_expansion_leaves_no_macro_or_variable() -> None:
    left = [s.origin for s in grafana_sql.grafana_statements() if "$" in s.sql or "[[" in s.sql]
    assert not left, left


def test_the_macros_expand_as_the_plugin_writes_them() -> None:
    span = grafana_sql.Span(grafana_sql.NOW.replace(day=1), grafana_sql.NOW)
    sql = (
        "SELECT $__timeGroup(at, '1h30m') FROM t WHERE $__timeFilter(at)"
        " AND $__dateFilter(d) AND x < $__toTime AND $__unknown(y)"
    )
    assert grafana_sql.expand_macros(sql, span) == (
        "SELECT toStartOfInterval(toDateTime(at), INTERVAL 5400 second) FROM t"
        " WHERE at >= toDateTime(1627788600) AND at <= toDateTime(1627875000)"
        " AND d >= toDate('2021-08-01') AND d <= toDate('2021-08-02')"
        " AND x < toDateTime(1627875000) AND $__unknown(y)"
    )


def test_the_checks_fail_on_what_a_server_would_refuse(server: Server) -> None:
    assert _parse(server.baocao, "SELECT FROM WHERE") is not None
    # ClickHouse reads `$__toTime` as a name: a macro left unexpanded parses, and only
    # running the query (as the Grafana test does) finds it.
    for sql in ("SELECT 1 FROM units_current WHERE $__toTime > 0", "SELECT nope FROM units"):
        with pytest.raises(Exception, match="UNKNOWN_IDENTIFIER"):
            server.grafana.query(sql)
