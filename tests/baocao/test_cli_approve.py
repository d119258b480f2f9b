"""`baocao approve` over real HTTP, against the API app with a warehouse that holds a
district's checkpoint reports of one day (Phú Bình, 173: CP-19-01 submitted, CP-19-02
approved, CP-19-03 not reported)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from baocao.broker import free_port
from baocao.cli import main
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.events import ApprovalRecorded
from contract.registry import Registry
from contract.settings import Settings
from producers.http.api import create_api
from producers.http.auth import TokenStore
from producers.http.outbox import Outbox
from tests.support.api_app import NOW, FakeLookup, FakePublisher, serving
from warehouse.approvals import LatestDecision, ReviewRow

DAY = NOW.date()


def row(unit: str, state: str, approved: int = 0) -> ReviewRow:
    return ReviewRow(
        unit_id=unit,
        revision=1,
        state=state,
        approved_revision=approved,
        changed_values=0,
        action="approve" if approved else "",
        approval_id=f"approve:checkpoint-daily:{unit}:{DAY}:r1" if approved else "",
        by_name="Trạm trưởng" if approved else "",
        by_unit="173" if approved else "",
        reason="",
        decided_at=NOW - timedelta(hours=1) if approved else None,
        timeliness="on_time",
        submitted_at=NOW - timedelta(hours=3),
        submitted_by=f"chốt {unit}",
        values={"people_screened": 120},
    )


class Book:
    """The warehouse's reviews of the day."""

    def __init__(self) -> None:
        self.rows = {
            "CP-19-01": row("CP-19-01", "submitted"),
            "CP-19-02": row("CP-19-02", "approved", 1),
        }

    def listing(self, dataset: str, day: date, units: list[str]) -> list[ReviewRow]:
        if dataset != "checkpoint-daily" or day != DAY:
            return []
        return [self.rows[u] for u in units if u in self.rows]

    def latest_decisions(self, since: date) -> list[LatestDecision]:
        return []


class Captured:
    def __init__(self) -> None:
        self.sent: list[ApprovalRecorded] = []

    def send_approvals(self, decisions: list[ApprovalRecorded]) -> None:
        self.sent.extend(decisions)


@dataclass
class Served:
    url: str
    reviewer: str  # a district token with the approve role
    submitter: str  # the same district, submit only
    captured: Captured


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    store = TokenStore(tmp_path / "tokens.sqlite")
    _, reviewer = store.create("173", "Phòng Y tế Phú Bình", NOW, ("approve",))
    _, submitter = store.create("173", "Phú Bình", NOW, ("submit",))
    captured = Captured()
    app = create_api(
        settings,
        Registry.load(),
        Catalog.load(),
        ManualClock(NOW),
        FakePublisher(),  # type: ignore[arg-type]
        FakeLookup(),
        store,
        Outbox(tmp_path / "outbox.sqlite"),
        approvals=Book(),
        approval_publisher=captured,
    )
    with serving(app) as url:
        yield Served(url, reviewer, submitter, captured)


def approve(served: Served, *args: str, token: str | None = None) -> Result:
    argv = ["approve", "--api", served.url, "--dataset", "checkpoint-daily", "--date", str(DAY)]
    env = {"BAOCAO_TOKEN": token or served.reviewer}
    return CliRunner().invoke(main, [*argv, *args], env=env)


def test_the_list_is_a_table_vietnamese_first_or_json(served: Served) -> None:
    shown = approve(served, "--list")
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert "Huyện Phú Bình (173)" in lines[0]
    assert lines[1].startswith("đơn vị / unit")
    table = {line.split()[0]: line for line in lines[2:]}
    assert "chờ duyệt / submitted" in table["CP-19-01"] and "approve,return" in table["CP-19-01"]
    assert "đã duyệt / approved" in table["CP-19-02"]
    assert "chưa báo cáo / not reported" in table["CP-19-03"]
    as_json = approve(served, "--list", "--json")
    units = {u["unit_id"]: u for u in json.loads(as_json.stdout)["units"]}
    assert units["CP-19-01"]["can"] == ["approve", "return"]
    assert units["CP-19-03"]["revision"] is None


def test_all_approves_what_can_be_approved(served: Served) -> None:
    done = approve(served, "--all")
    assert done.exit_code == 0, done.output
    assert "đã duyệt / approved  CP-19-01" in done.stdout
    assert [e.unit_id for e in served.captured.sent] == ["CP-19-01"]  # not the approved one
    assert served.captured.sent[0].by_name == "Phòng Y tế Phú Bình"


def test_a_return_needs_a_reason_and_carries_it(served: Served) -> None:
    usage = approve(served, "--unit", "CP-19-01", "--return")
    assert usage.exit_code == 2
    assert "--return cần --reason / --return needs a --reason" in usage.output
    why = "thiếu số / counts missing"
    done = approve(served, "--unit", "CP-19-01", "--return", "--reason", why)
    assert done.exit_code == 0, done.output
    assert "đã trả lại / returned  CP-19-01" in done.stdout
    assert served.captured.sent[0].reason == why


def test_a_refused_unit_is_said_and_exits_1(served: Served) -> None:
    done = approve(served, "--unit", "CP-19-01", "--unit", "CP-19-03")
    assert done.exit_code == 1
    assert "đã duyệt / approved  CP-19-01" in done.stdout
    assert "từ chối / refused  CP-19-03:" in done.stderr and "has not reported" in done.stderr


def test_usage_mistakes_are_said_in_both_languages(served: Served) -> None:
    both = approve(served, "--unit", "CP-19-01", "--all")
    assert both.exit_code == 2 and "--unit (lặp lại được) hoặc dùng --all" in both.output
    neither = approve(served)
    assert neither.exit_code == 2 and "name units with --unit" in neither.output
    bad_day = approve(served, "--list", "--date", "27/07/2021")
    assert bad_day.exit_code == 2
    assert "ngày dạng YYYY-MM-DD / a date as YYYY-MM-DD" in bad_day.output
    assert served.captured.sent == []


def test_the_service_s_refusal_and_absence_are_said(served: Served) -> None:
    no_role = approve(served, "--list", token=served.submitter)
    assert no_role.exit_code == 1
    assert "vai trò duyệt (approve)" in no_role.stderr and "no approve role" in no_role.stderr
    assert "(HTTP 403)" in no_role.stderr
    nobody = Served(f"http://127.0.0.1:{free_port()}", served.reviewer, "", served.captured)
    away = approve(nobody, "--list")
    assert away.exit_code == 1
    assert "không kết nối được dịch vụ" in away.stderr and "cannot reach the service" in away.stderr


def test_approve_tokens_are_for_districts_and_provinces(tmp_path: Path) -> None:
    env = {"BAOCAO_DATA_DIR": str(tmp_path), "BAOCAO_CHDB_PATH": str(tmp_path / "wh")}
    made = CliRunner().invoke(
        main,
        ["tokens", "create", "--unit", "173", "--role", "approve", "--role", "submit"],
        env=env,
    )
    assert made.exit_code == 0, made.output
    cred = TokenStore(tmp_path / "tokens.sqlite").check(made.stdout.strip())
    assert cred is not None and cred.roles == ("submit", "approve")
    commune = CliRunner().invoke(
        main, ["tokens", "create", "--unit", "05908", "--role", "approve"], env=env
    )
    assert commune.exit_code != 0
    assert "mã duyệt (approve) chỉ cấp cho tỉnh hoặc huyện" in commune.stderr
    assert "approve tokens are for provinces and districts" in commune.stderr
