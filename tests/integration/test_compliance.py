"""Compliance views and `baocao compliance` against a hand-computed three-day scenario.

Units 164, 165, 166 must report district-daily; 167 closed on 2021-07-01 and 168 is
exempt, so neither is ever expected. Deadline 15:00 (+07).

    day 26: 164 on time, 165 on time (+ a late correction), 166 late -> 3/3 received, 2/3 on time
    day 27: 164 on time, 165 late, 166 never                          -> 2/3 received, 1/3 on time
    day 28: nobody (only a missing alert marks the day)               -> 0/3 received, 0/3 on time
"""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from baocao.broker import free_port
from baocao.cli import main
from contract.events import Alert, ReportAccepted, SourceRef
from contract.settings import Settings
from sinks import rows
from tests.support.deadlines import DS, at, small_registry
from warehouse.client import Warehouse
from warehouse.compliance import compliance

pytestmark = pytest.mark.integration

D26, D27, D28 = date(2021, 7, 26), date(2021, 7, 27), date(2021, 7, 28)


def accepted(
    unit: str, day: date, hh: int, first_hh: int | None = None, rev: int = 1
) -> ReportAccepted:
    first = at(first_hh if first_hh is not None else hh, day=day)
    return ReportAccepted.model_validate(
        {
            "report_id": uuid.uuid4(),
            "dataset": DS,
            "unit_id": unit,
            "report_date": day,
            "submitted_at": at(hh, day=day),
            "submitted_by": "t",
            "values": {"cases_new": 1},
            "reason": "sửa" if rev > 1 else "",
            "revision": rev,
            "timeliness": "on_time" if first < at(15, day=day) else "late",
            "first_submitted_at": first,
            "deadline": at(15, day=day),
            "accepted_at": at(hh, day=day),
        }
    )


def load(wh: Warehouse) -> None:
    reports = [
        accepted("164", D26, 9),
        accepted("165", D26, 10),
        accepted("165", D26, 17, first_hh=10, rev=2),  # a correction never changes timeliness
        accepted("166", D26, 16),
        accepted("164", D27, 14),
        accepted("165", D27, 18),
    ]
    ref = SourceRef(topic="reports.accepted", partition=0, offset=0)
    wh.insert("reports", [rows.report_row(r, ref) for r in reports], rows.REPORTS_COLUMNS)
    alert = Alert(
        alert_id=f"missing:{DS}:166:{D28}", kind="missing", severity="warning", dataset=DS,
        unit_id="166", report_date=D28, raised_at=at(15, day=D28), message_vi="x", message_en="x",
    )  # fmt: skip
    wh.insert("alerts", [rows.alert_row(alert)], rows.ALERTS_COLUMNS)


EXPECTED = {  # day -> (expected, received, on_time, late, missing)
    D26: (3, 3, 2, 1, 0),
    D27: (3, 2, 1, 1, 1),
    D28: (3, 0, 0, 0, 3),
}


def test_compliance_figures_match_the_hand_computed_days(tmp_path: Path) -> None:
    settings = Settings(chdb_path=tmp_path / "wh", http_port=free_port())
    with Warehouse.connect(settings) as wh:
        wh.ensure_schema()
        wh.load_units(small_registry())
        load(wh)
        got = {}
        for day in (D26, D27, D28):
            data = compliance(wh, day, province="19", dataset=DS)
            (prov,) = data["province"]
            got[day] = tuple(
                prov[k] for k in ("expected", "received", "on_time", "late", "missing")
            )
            assert prov["reporting_rate"] == round(prov["received"] / 3, 4)
            assert prov["timeliness_rate"] == round(prov["on_time"] / 3, 4)
            assert {u["unit_id"] for u in data["units"]} == {"164", "165", "166"}
            assert sum(d["expected"] for d in data["district"]) == 3
        assert got == EXPECTED
        statuses = {u["unit_id"]: u["status"] for u in compliance(wh, D27)["units"]}
        assert statuses == {"164": "on_time", "165": "late", "166": "missing"}
        assert compliance(wh, D27, province="20")["units"] == []
        assert compliance(wh, D28 + timedelta(days=1))["units"] == []  # not a known day yet
    # No service listens on the port: the command opens chDB itself.
    env = {"BAOCAO_CHDB_PATH": str(tmp_path / "wh"), "BAOCAO_HTTP_PORT": str(settings.http_port)}
    result = CliRunner().invoke(
        main, ["compliance", "--date", "2021-07-27", "--province", "19", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["province"][0]["reporting_rate"] == pytest.approx(0.6667)
    text = CliRunner().invoke(main, ["compliance", "--date", "2021-07-27"], env=env).output
    assert "Chưa báo cáo / not reported (1):" in text and "Huyện Võ Nhai" in text
    assert "Muộn / late (1):" in text
