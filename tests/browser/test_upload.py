"""The form's file upload in headless Chromium: download the template, fill it, upload it.

Uses Debian's chromium, as tests/browser/test_form.py does; under CI=true a missing
browser fails the test, never skips it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from tests.support.api_app import FakePublisher, build, serving

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "api"


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, dict[str, str], FakePublisher]]:
    publisher = FakePublisher()
    app, *_, tokens = build(Path(tmp_path_factory.mktemp("upload")), publisher)
    with serving(app) as url:
        yield url, tokens, publisher


def test_download_the_template_fill_it_upload_it_and_see_row_errors(
    browser: object,
    site: tuple[str, dict[str, str], FakePublisher],
    tmp_path: Path,
) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    url, tokens, publisher = site
    page = browser.new_page(viewport={"width": 390, "height": 844}, accept_downloads=True)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{url}/submit")
    page.fill("#token", tokens["173"])
    page.click("#login-btn")
    expect(page.locator("#who")).to_contain_text("user-173")
    expect(page.locator("#upload-box")).to_be_visible()
    expect(page.locator("#template-btn")).to_have_text("Tải tệp Excel mẫu (.xlsx)")

    with page.expect_download() as info:
        page.click("#template-btn")
    download = info.value
    assert download.suggested_filename == "baocao-district-daily-173-2021-07-27.xlsx"
    template = tmp_path / download.suggested_filename
    download.save_as(template)

    book = load_workbook(template)
    sheet = book.worksheets[0]
    keys = {str(c.value).rsplit("[", 1)[1].rstrip("]"): c.column for c in sheet[1]}
    assert sheet.cell(row=2, column=keys["unit_id"]).value == "173"
    for key, value in {"cases_new": 3, "tests_pcr": 420, "tests_pcr_positive": 3}.items():
        sheet.cell(row=2, column=keys[key], value=value)
    filled = tmp_path / "filled.xlsx"
    book.save(filled)

    page.set_input_files("#upload-file", str(filled))
    page.click("#upload-btn")
    ok = page.locator("#upload-ok")
    expect(ok).to_contain_text("Đã gửi 1 báo cáo")
    expect(ok).to_contain_text("1 report(s) sent")
    assert [r.values["cases_new"] for r in publisher.sent] == [3]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "upload-ok-390.png"), full_page=True)

    # A CSV as Vietnamese Excel writes it (";"), with a bad cell on row 3 and a good row 2:
    # every problem by row and column, in both languages, and nothing sent.
    bad = (
        "dataset;unit_id;report_date;cases_new;tests_pcr;tests_pcr_positive\n"
        "district-daily;173;2021-07-27;3;420;3\n"
        "district-daily;173;2021-07-26;ba;10;11\n"
    )
    page.set_input_files(
        "#upload-file",
        files=[{"name": "bao-cao.csv", "mimeType": "text/csv", "buffer": bad.encode()}],
    )
    page.click("#upload-btn")
    items = page.locator("#upload-errors li")
    expect(items.first).to_contain_text("Dòng 3, cột cases_new")
    expect(items.first).to_contain_text("Line 3, column cases_new")
    text = page.locator("#upload-errors").inner_text()
    assert text.index("Dòng 3") < text.index("Line 3")  # Vietnamese first, English beside
    expect(page.locator("#upload-ok")).to_have_count(0)
    assert len(publisher.sent) == 1
    page.screenshot(path=str(ARTIFACTS / "upload-errors-390.png"), full_page=True)

    # a file in the wrong encoding is refused in words, not with a codec's message
    page.set_input_files(
        "#upload-file",
        files=[{"name": "ansi.csv", "mimeType": "text/csv", "buffer": bad.encode("utf-16-be")}],
    )
    page.click("#upload-btn")
    expect(items.first).to_contain_text("Tệp không phải UTF-8")
    expect(items.first).to_contain_text("The file is not UTF-8")

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the form scrolls sideways on a phone ({width}px)"
    assert errors == []
