"""A warehouse made by an older version keeps its tables' layout; the operator is told."""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path

import pytest

from contract.settings import Settings
from warehouse import schema
from warehouse.client import Warehouse

# As versions before 2026-11-23 created them: sorted by day first, one partition.
OLD_ORDER = {
    "report_values": "dataset, report_date, unit_id, metric, option, report_id",
    "reports": "dataset, report_date, unit_id, report_id",
}
OPERATIONS = Path(__file__).parents[2] / "docs" / "operations.md"


def old_warehouse(wh: Warehouse, database: str) -> None:
    """Create ``report_values`` and ``reports`` with the old layout, one report in them."""
    wh.command(f"CREATE DATABASE {database}")
    for table in (schema.REPORT_VALUES, schema.REPORTS):
        old = schema.Table(table.name, table.columns, OLD_ORDER[table.name], partition_by="")
        wh.command(old.ddl(database))
    report = "'00000000-0000-0000-0000-000000000001', 'district-daily', '164', '2021-07-27'"
    wh.command(
        f"INSERT INTO {database}.report_values VALUES ({report}, 'cases_new', '', 6, 1,"
        " 'on_time', '2021-07-27 01:00:00', now())"
    )
    wh.command(
        f"INSERT INTO {database}.reports (report_id, dataset, unit_id, report_date, revision,"
        f" timeliness, submitted_at) VALUES ({report}, 1, 'on_time', '2021-07-27 01:00:00')"
    )


def test_a_table_with_an_older_layout_is_kept_and_named_in_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(_env_file=None, chdb_path=tmp_path, database="old")  # type: ignore[call-arg]
    with Warehouse.connect(settings) as wh:
        old_warehouse(wh, "old")

        with caplog.at_level(logging.WARNING, logger="warehouse.client"):
            wh.ensure_schema()

        # Only the drifted tables are named, with both layouts, in English and Vietnamese.
        drift = wh.layout_drift()
        assert [name for name, _, _ in drift] == ["report_values", "reports"]
        (_, found, wanted) = drift[0]
        assert "ORDER BY (dataset,report_date,unit_id" in found
        assert "PARTITION BY toYYYYMM(report_date) ORDER BY (dataset,unit_id" in wanted
        (record,) = [r for r in caplog.records if "report_values" in r.getMessage()]
        assert "rebuild it" in record.getMessage() and "xây lại bảng" in record.getMessage()

        # Nothing was dropped or rewritten: the old rows still answer through the views.
        got = wh.query_rows("SELECT unit_id, value FROM report_values_latest")
        assert got == [("164", 6)]


def test_a_warehouse_created_by_this_version_has_no_drift(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, chdb_path=tmp_path, database="fresh")  # type: ignore[call-arg]
    with Warehouse.connect(settings) as wh:
        wh.ensure_schema()
        assert wh.layout_drift() == []


def test_the_documented_rebuild_keeps_every_row_and_leaves_no_drift(tmp_path: Path) -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    section = text[text.index("## Upgrading the warehouse layout") :]
    block = re.search(r"```sql\n(.*?)```", section, re.S)
    assert block is not None, "the rebuild steps are gone from docs/operations.md"
    settings = Settings(_env_file=None, chdb_path=tmp_path, database="baocao")  # type: ignore[call-arg]
    with Warehouse.connect(settings) as wh:
        old_warehouse(wh, "baocao")
        wh.ensure_schema()  # the old warehouse as the last version left it
        assert [name for name, _, _ in wh.layout_drift()] == ["report_values", "reports"]
        run_documented(wh, block.group(1))
        assert wh.layout_drift() == []
        got = wh.query_rows("SELECT unit_id, report_date, value FROM report_values_latest")
        assert [(u, str(d), v) for u, d, v in got] == [("164", "2021-07-27", 6)]


def test_a_rollup_with_the_older_marks_is_named_and_rebuilt_as_documented(
    tmp_path: Path,
) -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    section = text[text.index("## Upgrading the warehouse layout") :]
    blocks = re.findall(r"```sql\n(.*?)```", section, re.S)
    assert len(blocks) >= 2, "the rollup's rebuild steps are gone from docs/operations.md"
    settings = Settings(_env_file=None, chdb_path=tmp_path, database="baocao")  # type: ignore[call-arg]
    with Warehouse.connect(settings) as wh:
        wh.command("CREATE DATABASE baocao")  # daily_values as versions before 2026-12-08 made it
        wh.command(dataclasses.replace(schema.DAILY_VALUES, index_granularity=None).ddl("baocao"))
        wh.ensure_schema()
        wh.command(
            "INSERT INTO baocao.reports (report_id, dataset, unit_id, report_date, revision,"
            " timeliness, submitted_at, values_json)"
            " VALUES ('00000000-0000-0000-0000-000000000001', 'district-daily', '164',"
            " '2021-07-27', 1, 'on_time', '2021-07-27 01:00:00',"
            """ '{"cases_new":6}')"""
        )
        ((name, found, wanted),) = wh.layout_drift()
        assert name == "daily_values"
        assert found.endswith("index_granularity = 8192") and wanted.endswith("= 1024")
        run_documented(wh, blocks[1])
        assert wh.layout_drift() == []
        got = wh.query_rows("SELECT unit_id, totals FROM baocao.daily_values FINAL")
        assert got == [("164", {"cases_new": 6})]


def run_documented(wh: Warehouse, steps: str) -> None:
    """Run an operations.md SQL block as an operator would: each statement in turn, and
    ``init`` (`docker compose run --rm init`, which is ensure_schema) where it says so."""
    for line in steps.splitlines():
        if line.startswith("--"):
            if "init" in line:
                wh.ensure_schema()
            continue
        wh.command(line.rstrip(";"))
