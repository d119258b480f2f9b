"""``baocao init`` against a real chDB warehouse in a temporary directory.

chDB lets one process open one data directory at a time: ``init`` opens and closes it,
then each test opens it again to look at what was created.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner, Result
from grafana_client.client import GrafanaClientError

import dashboards.publish
from baocao.cli import main
from contract.settings import Settings
from dashboards.catalog import DASHBOARDS
from warehouse import schema
from warehouse.client import Warehouse


@pytest.fixture(scope="module")
def chdb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("init-warehouse")


def run_init(chdb_dir: Path, database: str, *args: str, **env: str) -> Result:
    base = {
        "BAOCAO_WAREHOUSE": "chdb",
        "BAOCAO_CHDB_PATH": str(chdb_dir),
        "BAOCAO_DATABASE": database,
        "BAOCAO_CLICKHOUSE_CLUSTER": "",
        "BAOCAO_GRAFANA_URL": "",
        "BAOCAO_GRAFANA_TOKEN": "",
    }
    return CliRunner().invoke(main, ["init", *args], env={**base, **env})


def tables_in(chdb_dir: Path, database: str) -> dict[str, str]:
    settings = Settings(_env_file=None, chdb_path=chdb_dir, database=database)  # type: ignore[call-arg]
    with Warehouse.connect(settings) as wh:
        rows = wh.query_rows(
            "SELECT name, engine FROM system.tables WHERE database = {db:String}",
            {"db": database},
        )
        if rows:  # every view answers, even on empty tables
            for view in schema.VIEW_NAMES:
                wh.query_rows(f"SELECT * FROM `{database}`.`{view}` LIMIT 1")
    return {name: engine for name, engine in rows}


def test_init_creates_every_table_and_view_and_can_run_again(chdb_dir: Path) -> None:
    first = run_init(chdb_dir, "fresh")
    assert first.exit_code == 0, first.output
    assert f"warehouse `fresh`: {len(schema.TABLES)} bảng / tables" in first.output
    assert "dashboards: skipped" in first.output
    created = tables_in(chdb_dir, "fresh")
    assert {n for n, e in created.items() if e == "ReplacingMergeTree"} == set(schema.TABLES)
    assert {n for n, e in created.items() if e == "View"} == set(schema.VIEW_NAMES)
    again = run_init(chdb_dir, "fresh")
    assert again.exit_code == 0, again.output
    assert tables_in(chdb_dir, "fresh") == created


class FakeGrafanaApi:
    """The slice of grafana_client's API that publishing uses, kept in memory."""

    def __init__(self) -> None:
        self.folders: list[dict[str, Any]] = []
        self.boards: dict[str, dict[str, Any]] = {}
        self.folder = SimpleNamespace(
            get_all_folders=lambda: list(self.folders),
            create_folder=lambda title, uid: self.folders.append({"uid": uid, "title": title}),
        )
        self.dashboard = SimpleNamespace(get_dashboard=self._get, update_dashboard=self._put)

    def _get(self, uid: str) -> dict[str, Any]:
        if uid not in self.boards:
            raise GrafanaClientError(404, None, "Dashboard not found")
        return {"dashboard": self.boards[uid]}

    def _put(self, body: dict[str, Any]) -> None:
        self.boards[body["dashboard"]["uid"]] = {**body["dashboard"], "folder": body["folderUid"]}


@pytest.fixture
def grafana(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeGrafanaApi, list[str]]]:
    api, seen = FakeGrafanaApi(), []

    def connect(url: str, token: str) -> FakeGrafanaApi:
        seen.extend([url, token])
        return api

    monkeypatch.setattr(dashboards.publish, "connect", connect)
    yield api, seen


def test_init_publishes_every_dashboard_when_grafana_is_configured(
    chdb_dir: Path, grafana: tuple[FakeGrafanaApi, list[str]]
) -> None:
    api, seen = grafana
    env = {"BAOCAO_GRAFANA_URL": "http://grafana:3000", "BAOCAO_GRAFANA_TOKEN": "glsa_t"}
    result = run_init(chdb_dir, "withgrafana", "--folder", "ops", **env)
    assert result.exit_code == 0, result.output
    assert seen == ["http://grafana:3000", "glsa_t"]
    assert api.folders == [{"uid": "ops", "title": "ops"}]
    assert {uid: b["folder"] for uid, b in api.boards.items()} == {d.uid: "ops" for d in DASHBOARDS}
    lines = result.output.splitlines()
    assert "ready" in lines[0], "the schema comes first: dashboards query it"
    assert lines[1] == "folder: đã / did create"
    assert lines[2:] == [f"{d.uid}: đã / did create" for d in DASHBOARDS]


def test_half_a_grafana_configuration_is_refused_before_anything_runs(chdb_dir: Path) -> None:
    result = run_init(chdb_dir, "half", "--grafana-url", "http://grafana:3000")
    assert result.exit_code == 2
    assert "BAOCAO_GRAFANA_TOKEN" in result.output and "hoặc không cái nào" in result.output
    assert tables_in(chdb_dir, "half") == {}


def test_an_unreachable_grafana_is_a_clear_error_after_the_schema(chdb_dir: Path) -> None:
    result = run_init(
        chdb_dir, "nografana", "--grafana-url", "http://127.0.0.1:1", "--grafana-token", "t"
    )
    assert result.exit_code == 1
    assert "cannot reach Grafana" in result.output and "Traceback" not in result.output
    assert set(schema.TABLES) <= set(tables_in(chdb_dir, "nografana"))


def test_an_unreachable_warehouse_is_a_clear_error(chdb_dir: Path) -> None:
    result = run_init(
        chdb_dir,
        "x",
        BAOCAO_WAREHOUSE="http",
        BAOCAO_CLICKHOUSE_URL="http://127.0.0.1:1",
        BAOCAO_WAREHOUSE_WAIT_SECONDS="1",  # waiting is tests/warehouse/test_wait.py's
    )
    assert result.exit_code == 1
    assert "không tạo được lược đồ kho dữ liệu / could not apply" in result.output
    assert "127.0.0.1:1" in result.output and "did not answer within 1 s" in result.output


def test_cluster_mode_needs_a_clickhouse_server(chdb_dir: Path) -> None:
    result = run_init(chdb_dir, "x", BAOCAO_CLICKHOUSE_CLUSTER="prod")
    assert result.exit_code == 1
    assert "BAOCAO_WAREHOUSE=http" in result.output


def test_a_bad_cluster_name_is_refused_as_a_setting(chdb_dir: Path) -> None:
    result = run_init(chdb_dir, "x", BAOCAO_CLICKHOUSE_CLUSTER="prod; DROP")
    assert result.exit_code == 1
    assert "cấu hình sai / invalid settings" in result.output
    assert "clickhouse_cluster" in result.output
