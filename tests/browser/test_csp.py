"""The pages work in headless Chromium under the service's Content-Security-Policy.

The whole warehouse service app (``build_app``, security headers included) on an empty
chDB warehouse: the form signs in, submits and shows its receipt, and Swagger UI draws
the API, with no CSP violation. The dashboards are drawn under the policy in
``tests/browser/dashboards/test_pages.py`` (they need the scenario's data).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from baocao.broker import free_port
from baocao.context import Context
from baocao.web import WebServer, build_app
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.registry import Registry
from contract.settings import Settings
from producers.http.auth import TokenStore
from tests.support.api_app import NOW, FakePublisher
from tests.support.csp_watch import CspWatch
from warehouse.client import Warehouse


#: Collects every violation the page reports, from the first script on.
@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The service's app over HTTP, and a submit token of district 173."""
    root = Path(tmp_path_factory.mktemp("csp"))
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, chdb_path=root / "warehouse", database="csp", data_dir=root
    )
    ctx = Context(settings, Registry.load(), Catalog.load(), ManualClock(NOW))
    _, token = TokenStore(root / "tokens.sqlite").create("173", "user-173", NOW)
    with Warehouse.connect(settings) as wh:
        wh.ensure_schema()
        app = build_app(ctx, wh, lambda: {"paused": False}, FakePublisher(), settle=lambda: True)
        port = free_port()
        server = WebServer(app, "127.0.0.1", port)
        server.start()
        try:
            yield f"http://127.0.0.1:{port}", token
        finally:
            server.stop()


def test_the_form_signs_in_and_submits_under_the_policy(
    browser: Any, service: tuple[str, str]
) -> None:
    from playwright.sync_api import expect

    url, token = service
    page = browser.new_page(viewport={"width": 390, "height": 844})
    watch = CspWatch(page)
    response = page.goto(f"{url}/submit")
    assert (
        response is not None and "script-src 'self';" in response.headers["content-security-policy"]
    )
    page.fill("#token", token)
    page.click("#login-btn")
    expect(page.locator("#who")).to_contain_text("user-173")
    page.fill("#v-cases_new", "3")
    page.fill("#v-tests_pcr", "420")
    page.fill("#v-tests_pcr_positive", "3")
    page.click("#submit-btn")
    expect(page.locator("#receipt-status")).to_have_text("Đã nhận báo cáo; đang xử lý.")
    assert page.locator("#receipt-id").inner_text()
    page.click("#lang-toggle")
    expect(page.locator("h1")).to_have_text("Daily epidemic report")
    watch.assert_clean()
    page.close()


def test_swagger_ui_draws_the_api_under_the_policy(browser: Any, service: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    url, _ = service
    page = browser.new_page()
    watch = CspWatch(page)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))

    response = page.goto(f"{url}/api/v1/docs")
    assert response is not None and "'sha256-" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("baocao")
    # The service's own OpenAPI 3.1 document, drawn as it is (Swagger UI 5)
    expect(page.locator(".swagger-ui .info .version-stamp")).to_contain_text("OAS 3.1")
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.get_by_text("Unable to render this definition").count() == 0
    assert page.locator(".opblock").count() >= 5  # the API's operations, drawn
    page.locator(".opblock-summary").first.click()  # open one: React renders its detail
    expect(page.locator(".opblock-body").first).to_be_visible()
    watch.assert_clean()
    assert all(r.startswith(url) for r in requests), "the docs fetched something off-site"
    page.close()


def test_the_watch_sees_a_refused_inline_script(browser: Any, service: tuple[str, str]) -> None:
    """The check above would catch a regression: an inline script is refused and reported."""
    url, _ = service
    page = browser.new_page()
    watch = CspWatch(page)
    page.goto(f"{url}/submit")
    page.evaluate(
        """() => { const s = document.createElement("script");
        s.textContent = "window.ran = true"; document.body.append(s); }"""
    )
    page.wait_for_function("() => window.cspViolations.length > 0")
    assert page.evaluate("window.ran === undefined")
    assert any("script-src" in v for v in watch.violations()), watch.violations()
    page.close()
