"""`baocao compliance` names provinces and districts (with their codes), not codes alone.

A chDB warehouse with the small registry (tests/support/deadlines.py): on 2021-07-27
164 reported on time, 165 late and 166 not at all.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from baocao.broker import free_port
from baocao.cli import main
from contract.events import ReportAccepted, SourceRef
from contract.settings import Settings
from sinks import rows
from tests.support.deadlines import DS, at, small_registry
from warehouse.client import Warehouse
from warehouse.compliance import compliance, render

DAY = date(2021, 7, 27)


def accepted(unit: str, hh: int) -> ReportAccepted:
    return ReportAccepted.model_validate(
        {
            "report_id": uuid.uuid4(),
            "dataset": DS,
            "unit_id": unit,
            "report_date": DAY,
            "submitted_at": at(hh),
            "submitted_by": "t",
            "values": {"cases_new": 1},
            "revision": 1,
            "timeliness": "on_time" if hh < 15 else "late",
            "first_submitted_at": at(hh),
            "deadline": at(15),
            "accepted_at": at(hh),
        }
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A filled warehouse, closed again: the command opens it, as with no service running."""
    path = Path(tmp_path_factory.mktemp("compliance")) / "warehouse"
    with Warehouse.connect(Settings(chdb_path=path)) as wh:
        wh.ensure_schema()
        wh.load_units(small_registry())
        ref = SourceRef(topic="reports.accepted", partition=0, offset=0)
        reports = [rows.report_row(accepted(u, hh), ref) for u, hh in (("164", 9), ("165", 17))]
        wh.insert("reports", reports, rows.REPORTS_COLUMNS)
    return {"BAOCAO_CHDB_PATH": str(path), "BAOCAO_HTTP_PORT": str(free_port())}


def test_rollups_carry_each_areas_name(env: dict[str, str]) -> None:
    with Warehouse.connect(Settings(chdb_path=Path(env["BAOCAO_CHDB_PATH"]))) as wh:
        wh.ensure_schema()  # as the service does when it opens the warehouse
        data = compliance(wh, DAY, province="19", dataset=DS)
    assert [(r["area"], r["name"]) for r in data["province"]] == [("19", "Tỉnh Thái Nguyên")]
    assert [(r["area"], r["name"], r["missing"]) for r in data["district"]] == [
        ("164", "Thành phố Thái Nguyên", 0),
        ("165", "Huyện Định Hóa", 0),
        ("166", "Huyện Võ Nhai", 1),
    ]
    text = render(data)
    assert "Tỉnh Thái Nguyên (19)" in text and "Huyện Võ Nhai (166)" in text


def test_the_command_shows_names_with_codes(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["compliance", "--date", "2021-07-27"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    district = lines.index("Huyện / district:")
    header, *table = lines[district + 1 : district + 5]
    assert header.split()[:3] == ["dataset", "area", "expected"]
    area = slice(header.index("area"), header.index("expected"))
    assert [line[area].strip() for line in table] == [
        "Thành phố Thái Nguyên (164)",
        "Huyện Định Hóa (165)",
        "Huyện Võ Nhai (166)",
    ]
    as_json = CliRunner().invoke(main, ["compliance", "--date", "2021-07-27", "--json"], env=env)
    assert json.loads(as_json.output)["district"][2]["name"] == "Huyện Võ Nhai"
