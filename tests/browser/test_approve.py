"""The approval page in headless Chromium, on the whole service app and a chDB warehouse.

A district reviewer (Phú Bình, 173) signs in at ``/approve``, lists its checkpoints'
reports of the day (not another district's), approves two, is stopped on the page when
it returns one without a reason, returns it with one, and reads the refusal of a return
the province overtook. Decisions reach the warehouse when the test delivers them, as
the sink would a moment later: in between the page shows them as being recorded.
Under the service's Content-Security-Policy, with no violation and nothing off-site.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from baocao.broker import free_port
from baocao.context import Context
from baocao.web import WebServer, build_app
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.events import ApprovalRecorded, ReportAccepted, SourceRef
from contract.registry import Registry, Unit, UnitKind
from contract.settings import Settings
from producers.http.auth import TokenStore
from sinks import rows
from tests.support.api_app import NOW, FakePublisher
from tests.support.csp_watch import CspWatch
from warehouse.client import Warehouse

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "api"
DAY = NOW.date()
CP = "checkpoint-daily"
REF = SourceRef(topic="reports.accepted", partition=0, offset=0)
REASON = "Số người được kiểm tra không khớp sổ trực chốt"


def _registry() -> Registry:
    """The demo registry plus two checkpoints: one more of Phú Bình (173), one of the
    city of Thái Nguyên (164), whose district reviews it, not 173."""
    extra = [
        Unit.model_validate(
            {"unit_id": uid, "name": name, "kind": UnitKind.CHECKPOINT, "parent_id": district,
             "province_id": "19", "district_id": district, "datasets": [CP],
             "active_from": "2021-05-01"}
        )
        for uid, name, district in (
            ("CP-19-98", "Chốt thử Phú Bình", "173"),
            ("CP-19-99", "Chốt thử Thái Nguyên", "164"),
        )
    ]  # fmt: skip
    return Registry([*Registry.load(), *extra])


def _report(unit: str, hour: int, revision: int = 1) -> ReportAccepted:
    at = NOW.replace(hour=hour)
    values = {"people_screened": 100 + hour, "vehicles_screened": 10 * revision}
    return ReportAccepted.model_validate({
        "report_id": uuid.uuid5(uuid.NAMESPACE_URL, f"approve/{unit}/{revision}"),
        "dataset": CP, "unit_id": unit, "report_date": DAY, "submitted_at": at,
        "submitted_by": f"trực chốt {unit}", "values": values, "revision": revision,
        "timeliness": "on_time", "first_submitted_at": NOW.replace(hour=7),
        "deadline": NOW.replace(hour=15), "accepted_at": at + timedelta(seconds=1),
        "reason": "sửa số xe" if revision > 1 else "",
    })  # fmt: skip


@dataclass
class Pipeline:
    """The approvals topic and the sink behind it: decisions wait until ``deliver``."""

    wh: Warehouse
    waiting: list[ApprovalRecorded] = field(default_factory=list)
    sent: list[ApprovalRecorded] = field(default_factory=list)

    def send_approvals(self, decisions: list[ApprovalRecorded]) -> None:
        self.sent += decisions
        self.waiting += decisions

    def deliver(self) -> None:
        """Write what was sent, as the sink does."""
        batch, self.waiting = self.waiting, []
        self.write(batch)

    def write(self, decisions: list[ApprovalRecorded]) -> None:
        self.wh.insert(
            "approvals", [rows.approval_row(d) for d in decisions], rows.APPROVALS_COLUMNS
        )


def _decided(action: str, unit: str, by_unit: str, by_name: str, ago: int) -> ApprovalRecorded:
    """A decision made ``ago`` minutes before the service's now."""
    return ApprovalRecorded.model_validate(
        {
            "approval_id": ApprovalRecorded.id_of(action, CP, unit, DAY, 1),
            "action": action,
            "dataset": CP,
            "unit_id": unit,
            "report_date": DAY,
            "revision": 1,
            "values": _report(unit, 8).values,
            "by_name": by_name,
            "by_unit": by_unit,
            "decided_at": NOW - timedelta(minutes=ago),
        }
    )


@dataclass
class Site:
    url: str
    token: str
    submit_only: str
    pipeline: Pipeline


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = Path(tmp_path_factory.mktemp("approve"))
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, chdb_path=root / "warehouse", database="approve", data_dir=root
    )
    ctx = Context(settings, _registry(), Catalog.load(), ManualClock(NOW))
    store = TokenStore(root / "tokens.sqlite")
    _, token = store.create("173", "cán bộ Phú Bình", NOW, roles=("approve",))
    _, submit_only = store.create("173", "người gửi Phú Bình", NOW)
    with Warehouse.connect(settings) as wh:
        wh.ensure_schema()
        reports = [
            _report("CP-19-01", 8),
            _report("CP-19-02", 9),
            _report("CP-19-03", 8),
            _report("CP-19-03", 11, revision=2),
            _report("CP-19-98", 8),
            _report("CP-19-99", 8),  # Thái Nguyên city's: not for 173
            _report("CP-20-01", 8),  # another province's
        ]
        wh.insert("reports", [rows.report_row(r, REF) for r in reports], rows.REPORTS_COLUMNS)
        pipeline = Pipeline(wh)
        # Phú Bình approved its new checkpoint's report earlier in the day.
        pipeline.write([_decided("approve", "CP-19-98", "173", "cán bộ Phú Bình", ago=60)])
        app = build_app(
            ctx,
            wh,
            lambda: {"paused": False},
            FakePublisher(),
            settle=lambda: True,
            approval_publisher=pipeline,
        )
        port = free_port()
        server = WebServer(app, "127.0.0.1", port)
        server.start()
        try:
            yield Site(f"http://127.0.0.1:{port}", token, submit_only, pipeline)
        finally:
            server.stop()


def test_a_district_approves_two_returns_one_and_reads_each_result(
    browser: Any, site: Site
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1100, "height": 900})
    watch = CspWatch(page)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    response = page.goto(f"{site.url}/approve")
    assert response is not None
    assert "script-src 'self';" in response.headers["content-security-policy"]
    expect(page.locator("h1")).to_have_text("Duyệt báo cáo của đơn vị cấp dưới")
    expect(page.locator("#submit-link")).to_have_attribute("href", "/submit")
    expect(page.locator("#report_date")).to_have_value("2021-07-27")  # the service's today

    page.fill("#token", "bc_wrong_token")
    page.click("#login-btn")
    expect(page.locator("#login-error")).to_contain_text("Mã truy cập không hợp lệ")
    page.fill("#token", site.token)
    page.click("#login-btn")
    expect(page.locator("#who")).to_have_text("Huyện Phú Bình (173)")
    # its communes report no district-daily: nothing to review there
    expect(page.locator("#empty")).to_be_visible()
    page.select_option("#dataset", label="Báo cáo ngày chốt kiểm soát")
    rows_ = page.locator("#units tbody tr[data-unit]")
    expect(rows_).to_have_count(4)
    listed = [rows_.nth(i).get_attribute("data-unit") for i in range(4)]
    assert listed == ["CP-19-01", "CP-19-02", "CP-19-03", "CP-19-98"]  # no 164's, no 20's

    def row(unit: str) -> Any:
        return page.locator(f"#units tbody tr[data-unit='{unit}']")

    def state(unit: str) -> Any:
        return row(unit).locator("td.state")

    expect(state("CP-19-01")).to_have_text("○Chờ duyệt")
    expect(row("CP-19-03")).to_contain_text("lần sửa 2")
    expect(row("CP-19-03")).to_contain_text("Đúng hạn")
    expect(state("CP-19-98")).to_have_text("✓Đã duyệt")
    expect(row("CP-19-98").locator("input[type=checkbox]")).to_have_count(0)  # done already

    # approve two
    row("CP-19-01").locator("input[type=checkbox]").check()
    row("CP-19-02").locator("input[type=checkbox]").check()
    expect(page.locator("#count")).to_have_text("2 đã chọn")
    page.click("#approve-btn")
    expect(page.locator("#recorded li")).to_have_count(2)
    expect(page.locator("#recorded li[data-unit='CP-19-01']")).to_contain_text("Đã duyệt")
    expect(page.locator("#recorded li[data-unit='CP-19-01']")).to_contain_text("/ Approved")
    # on the topic, not yet in the warehouse: shown as being recorded
    assert [(d.action, d.unit_id) for d in site.pipeline.sent] == [
        ("approve", "CP-19-01"),
        ("approve", "CP-19-02"),
    ]
    expect(state("CP-19-01")).to_have_attribute("data-state", "recording")
    expect(state("CP-19-02")).to_have_text("…Đang ghi…")
    page.screenshot(path=str(_artifacts() / "approve-recording-vi.png"), full_page=True)
    site.pipeline.deliver()
    expect(state("CP-19-01")).to_have_text("✓Đã duyệt", timeout=15_000)
    expect(state("CP-19-02")).to_have_text("✓Đã duyệt")
    expect(row("CP-19-01").locator("td.decision")).to_contain_text("cán bộ Phú Bình")

    # return one: without a reason the page refuses, and nothing is posted
    before = len(posted)
    row("CP-19-03").locator("button[data-return]").click()
    page.click("#return-send")
    expect(page.locator("#return-error")).to_have_text(
        "Cần nêu lý do trả lại. / A reason is required to return a report."
    )
    assert len(posted) == before and len(site.pipeline.sent) == 2
    page.fill("#return-reason", REASON)
    page.click("#return-send")
    expect(page.locator("#recorded li[data-unit='CP-19-03']")).to_contain_text("Bị trả lại")
    assert (site.pipeline.sent[-1].action, site.pipeline.sent[-1].reason) == ("return", REASON)
    expect(state("CP-19-03")).to_have_attribute("data-state", "recording")
    site.pipeline.deliver()
    expect(state("CP-19-03")).to_have_text("↩Bị trả lại", timeout=15_000)
    expect(row("CP-19-03").locator("td.decision")).to_contain_text(REASON)

    # the province accepts CP-19-98 while the district is returning it: refused, and why
    site.pipeline.write([_decided("accept", "CP-19-98", "19", "cán bộ tỉnh", ago=1)])
    row("CP-19-98").locator("button[data-return]").click()
    page.fill("#return-reason", "Kiểm tra lại số xe")
    page.click("#return-send")
    refused = page.locator("#refused li[data-unit='CP-19-98']")
    expect(refused).to_contain_text("đã được tỉnh chấp nhận")
    expect(refused).to_contain_text("accepted by the province")
    expect(page.locator("#recorded")).to_have_count(0)
    page.click("#show-btn")
    expect(state("CP-19-98")).to_have_text("✓✓Tỉnh đã chấp nhận")
    page.screenshot(path=str(_artifacts() / "approve-results-vi.png"), full_page=True)

    page.click("#lang-toggle")
    expect(page.locator("h1")).to_have_text("Review the reports of the units below")
    expect(state("CP-19-03")).to_have_text("↩Returned")
    expect(page.locator("#submit-link")).to_have_text("Submit a report")
    page.screenshot(path=str(_artifacts() / "approve-en.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the table scrolls alone
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    page.screenshot(path=str(_artifacts() / "approve-en-390.png"), full_page=True)

    watch.assert_clean()
    assert all(r.startswith(site.url) for r in requests), "the page fetched something off-site"
    page.close()


def test_the_form_links_to_the_approval_page(browser: Any, site: Site) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    page.goto(f"{site.url}/submit")
    page.click("#approve-link")
    expect(page).to_have_url(f"{site.url}/approve")
    expect(page.locator("h1")).to_have_text("Duyệt báo cáo của đơn vị cấp dưới")
    page.close()


def test_a_token_without_the_approve_role_is_told_why(browser: Any, site: Site) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    page.goto(f"{site.url}/submit")  # signed in on the form: the approval page tries it
    page.fill("#token", site.submit_only)
    page.click("#login-btn")
    expect(page.locator("#who")).to_contain_text("người gửi Phú Bình")
    page.click("#approve-link")
    error = page.locator("#login-error")
    expect(error).to_contain_text("không có vai trò duyệt (approve)")
    expect(error).to_contain_text("/ This token has no approve role")
    expect(page.locator("#login")).to_be_visible()
    page.close()


def _artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def test_the_page_and_its_script_are_public_like_the_form(site: Site) -> None:
    """Reviewers reach it through the proxy with no sign-in, as submitters reach /submit;
    the operator's pages stay closed to the same request."""
    import urllib.error
    import urllib.request

    def status(path: str) -> int:
        proxied = {"X-Forwarded-For": "203.0.113.7"}  # not this host's own request
        request = urllib.request.Request(f"{site.url}{path}", headers=proxied)
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    assert [status(p) for p in ("/approve", "/approve/approve.js", "/api/status")] == [
        200,
        200,
        401,
    ]
