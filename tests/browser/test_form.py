"""The web form in headless Chromium: log in, submit, see the receipt and Vietnamese errors.

Uses Debian's chromium (``playwright install`` cannot download browsers here); under
CI=true a missing browser fails the test, never skips it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.api_app import FakePublisher, build, serving

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "api"


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, dict[str, str], FakePublisher]]:
    publisher = FakePublisher()
    app, *_, tokens = build(Path(tmp_path_factory.mktemp("web")), publisher)
    with serving(app) as url:
        yield url, tokens, publisher


def test_log_in_submit_see_receipt_and_errors_then_english(
    browser: object, site: tuple[str, dict[str, str], FakePublisher]
) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    url, tokens, publisher = site
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{url}/submit")
    expect(page.locator("h1")).to_have_text("Gửi báo cáo dịch hằng ngày")

    page.fill("#token", "bc_wrong_token")
    page.click("#login-btn")
    expect(page.locator("#login-error")).to_have_text("Mã truy cập không hợp lệ.")
    page.fill("#token", tokens["173"])
    page.click("#login-btn")
    expect(page.locator("#who")).to_contain_text("user-173")
    expect(page.locator("#report_date")).to_have_value("2021-07-27")  # the server's today
    # server time 10:00, deadline 15:00 (the page clock ticks on from the server's instant)
    expect(page.locator("#countdown")).to_have_text(re.compile(r"còn (4h 59m|5h 0m)"))
    expect(page.locator("label[for='v-cases_new']")).to_have_text("Ca mắc mới (F0)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "form-vi-390.png"), full_page=True)

    page.fill("#v-cases_new", "3")
    page.fill("#v-tests_pcr", "420")
    page.fill("#v-tests_pcr_positive", "3")
    page.fill("[id='v-vaccine_dose1.age_18_49']", "1200")
    page.click("#submit-btn")
    expect(page.locator("#receipt-status")).to_have_text("Đã nhận báo cáo; đang xử lý.")
    rid = page.locator("#receipt-id").inner_text()
    assert rid in [str(r.report_id) for r in publisher.sent]
    assert publisher.sent[-1].values["vaccine_dose1.age_18_49"] == 1200
    expect(page.locator("#days tbody tr").first).to_contain_text("Đang chờ")
    page.screenshot(path=str(ARTIFACTS / "receipt-vi-390.png"), full_page=True)

    page.fill("#v-tests_pcr_positive", "500")  # more positives than tests
    page.fill("#v-cases_new", "-1")
    page.click("#submit-btn")
    msg = page.locator(".field-msg[data-for='cases_new'] .error")
    expect(msg).to_contain_text("không được là số âm")
    expect(page.locator("#v-cases_new")).to_have_class("bad")
    page.fill("#v-cases_new", "3")
    page.click("#submit-btn")
    rule = page.locator(".field-msg[data-for='tests_pcr_positive'] .error")
    expect(rule).to_contain_text("RT-PCR dương tính không được lớn hơn")
    expect(page.locator("#receipt")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "errors-vi-390.png"), full_page=True)

    page.click("#lang-toggle")
    expect(page.locator("h1")).to_have_text("Daily epidemic report")
    expect(page.locator("label[for='v-cases_new']")).to_have_text("New cases (F0)")
    expect(rule).to_contain_text("RT-PCR positive")
    expect(page.locator("#v-tests_pcr")).to_have_value("420")  # values survive the switch
    page.screenshot(path=str(ARTIFACTS / "errors-en-390.png"), full_page=True)

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the form scrolls sideways on a phone ({width}px)"
    assert all(r.startswith(url) for r in requests), "the form fetched something off-site"
    assert errors == []
