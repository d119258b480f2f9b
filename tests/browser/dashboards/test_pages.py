"""Open every dashboard in headless Chromium: charts with points, "data as of", language toggle.

Uses Debian's chromium (``apt-get install chromium``): ``playwright install`` cannot
download browsers here. Under CI=true a missing browser fails the test, never skips it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from baocao.broker import free_port
from baocao.context import Context
from baocao.web import WebServer, build_app
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.settings import Settings
from dashboards.catalog import DASHBOARDS
from dashboards.model import Dashboard
from tests.support import dashboard_scenario as scenario
from tests.support.api_app import FakePublisher
from tests.support.csp_watch import CspWatch
from tests.support.paths import ROOT
from warehouse.client import Warehouse

ARTIFACTS = ROOT / "test-artifacts" / "dashboards"
PERIOD = "province=19&from=2021-08-01&to=2021-08-03&refresh=2"


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda d: d.uid)
@pytest.mark.parametrize("viewport", [(1366, 900), (390, 844)], ids=["laptop", "phone"])
def test_dashboard_renders_and_switches_language(
    browser: object, viewer_url: str, dashboard: Dashboard, viewport: tuple[int, int]
) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Nothing the page asks for is missing (the console once showed a 404 for /favicon.ico).
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.on("console", lambda m: missing.append(m.text) if "404" in m.text else None)
    page.goto(f"{viewer_url}/dashboards/{dashboard.uid}?{PERIOD}")
    page.wait_for_function("window.baocaoRefreshes >= 1", timeout=30_000)
    expect(page.locator("#asof-label")).to_have_text("Dữ liệu tính đến")
    as_of = page.locator("#asof-value").inner_text()
    assert as_of.startswith("2021-08-0"), as_of
    for panel in dashboard.panels:
        if panel.key == "as_of":
            continue
        box = page.locator(f"[data-panel='{panel.key}']")
        assert int(box.get_attribute("data-points") or 0) > 0, f"{panel.key} has no data"
        if panel.kind in ("timeseries", "bar", "map"):
            points = box.locator(".point").count()
            assert points > 0, f"{panel.key}: the chart drew no data points"
        elif panel.kind in ("table", "grid"):
            assert box.locator("tbody tr").count() > 0, f"{panel.key}: empty table"
        else:
            assert box.locator(".value").inner_text() not in ("", "–"), panel.key
    status = page.locator("[data-panel='missing_now'] tbody td").last
    if dashboard.uid == "baocao-compliance":  # a status code is shown by its name
        expect(status).to_have_text("Thiếu")
    name = f"{dashboard.uid}-{viewport[0]}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-vi.png"), full_page=True)

    page.click("#lang-toggle")
    expect(page.locator("#asof-label")).to_have_text("Data as of")
    expect(page.locator("h1")).to_have_text(dashboard.title_en)
    assert "lang=en" in page.url
    # the periodic refresh redraws without a reload: the counter survives
    before = page.evaluate("window.baocaoRefreshes")
    page.wait_for_function(f"window.baocaoRefreshes > {before}", timeout=15_000)
    if dashboard.uid == "baocao-compliance":
        expect(status).to_have_text("Missing")
    page.screenshot(path=str(ARTIFACTS / f"{name}-en.png"), full_page=True)
    assert not errors, errors
    assert not missing, f"not found: {missing}"
    page.close()


@pytest.fixture(scope="module")
def service_url(tmp_path_factory: pytest.TempPathFactory, warehouse: Warehouse) -> Iterator[str]:
    """The warehouse service's whole app (security headers included) on the scenario."""
    root = Path(tmp_path_factory.mktemp("dash-service"))
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, chdb_path=root / "warehouse", database=warehouse.database,
        data_dir=root, brief_dir=root / "briefs",
    )  # fmt: skip
    now = datetime(2021, 8, 3, 16, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    ctx = Context(settings, scenario.registry(), Catalog.load(), ManualClock(now))
    app = build_app(ctx, warehouse, lambda: {"paused": False}, FakePublisher(), settle=lambda: True)
    port = free_port()
    server = WebServer(app, "127.0.0.1", port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_dashboards_draw_under_the_content_security_policy(browser: Any, service_url: str) -> None:
    """Plotly and viewer.js need no inline script and no eval: every chart draws, unrefused."""
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    watch = CspWatch(page)
    drawn = 0
    for dashboard in DASHBOARDS:
        response = page.goto(f"{service_url}/dashboards/{dashboard.uid}?{PERIOD}")
        assert response is not None
        assert "script-src 'self';" in response.headers["content-security-policy"]
        page.wait_for_function("() => window.baocaoRefreshes >= 1", timeout=30_000)
        charts = [p for p in dashboard.panels if p.kind in ("timeseries", "bar", "map")]
        for panel in charts:
            box = page.locator(f"[data-panel='{panel.key}']")
            assert box.locator(".main-svg").count() > 0, f"{panel.key}: plotly drew nothing"
            assert box.locator(".point").count() > 0, f"{panel.key}: no data points"
            drawn += 1
        watch.assert_clean()
    assert drawn >= 3, f"only {drawn} charts"
    page.close()
