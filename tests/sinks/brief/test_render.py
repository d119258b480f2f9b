"""The brief's three files: what a reader sees in the PDF, the DOCX and the HTML page.

The first page of the PDF is compared with ``reference/thai-nguyen-2021-07-27-p1.png``
(``pdftoppm -r 50``), allowing a small mean difference per pixel so that another
poppler's anti-aliasing passes and a moved table does not. After an intended change of
the layout, regenerate it and look at it before committing:

    BAOCAO_UPDATE_REFERENCE=1 .venv/bin/python -m pytest tests/sinks/brief/test_render.py
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import shutil
import subprocess
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from docx import Document as open_docx
from PIL import Image, ImageChops, ImageStat

from sinks.brief.blocks import Table
from sinks.brief.model import Brief
from sinks.brief.render import build, render
from tests.support.paths import ROOT

REFERENCE = Path(__file__).parent / "reference" / "thai-nguyen-2021-07-27-p1.png"
ARTIFACTS = ROOT / "test-artifacts" / "brief"
#: Mean absolute difference per channel (0–255) the first page may have from the reference.
TOLERANCE = 2.0


@pytest.fixture(scope="module")
def poppler() -> None:
    """pdftotext and pdftoppm (poppler-utils); a failure, never a skip, under CI."""
    if shutil.which("pdftotext") and shutil.which("pdftoppm"):
        return
    message = "poppler-utils is missing: apt-get install -y poppler-utils (make test does)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true: {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def pdf(brief: Brief) -> bytes:
    data = render(brief, "pdf")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "thai-nguyen-2021-07-27.pdf").write_bytes(data)
    return data


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "brief.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def test_pdf_text_is_composed_vietnamese_with_the_days_facts(
    poppler: None, pdf: bytes, tmp_path: Path
) -> None:
    text = pdf_text(pdf, tmp_path)
    assert unicodedata.is_normalized("NFC", text)
    flat = " ".join(text.split())
    for phrase in (
        "BÁO CÁO NHANH TÌNH HÌNH DỊCH COVID-19",
        "Tỉnh Thái Nguyên — Ngày 27/7/2021",
        "Số liệu tính đến 15:00 ngày 27/7/2021",
        "Lập lúc 19:00 ngày 27/7/2021",
        "Báo cáo ngày cấp huyện: 7/9 đơn vị đã báo cáo; 1 báo cáo trễ; 1 chưa báo cáo",
        "6 ca cộng đồng",
        "Huyện Phú Bình",
        "Xã Tân Khánh",
        "sau 38 ngày không có ca cộng đồng",
        "cấp độ",
        "Thành phố Thái Nguyên",
        "Thành phố Sông Công",  # the unit that never reported, by name
        "Bổ sung sau khi rà soát",
    ):
        assert phrase in flat, phrase


def test_pdf_first_page_looks_like_the_reference(poppler: None, pdf: bytes, tmp_path: Path) -> None:
    (tmp_path / "brief.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", "-singlefile",
         str(tmp_path / "brief.pdf"), str(tmp_path / "page")],
        check=True,
    )  # fmt: skip
    page = Image.open(tmp_path / "page.png").convert("RGB")
    shutil.copy(tmp_path / "page.png", ARTIFACTS / "thai-nguyen-2021-07-27-p1.png")
    if os.environ.get("BAOCAO_UPDATE_REFERENCE") == "1":
        REFERENCE.parent.mkdir(parents=True, exist_ok=True)
        page.save(REFERENCE, optimize=True)
    reference = Image.open(REFERENCE).convert("RGB")
    assert page.size == reference.size
    diff = ImageStat.Stat(ImageChops.difference(page, reference)).mean
    assert max(diff) <= TOLERANCE, f"mean difference {diff} per channel; see {ARTIFACTS}"


def test_the_same_brief_renders_the_same_bytes(brief: Brief, pdf: bytes) -> None:
    assert render(brief, "pdf") == pdf
    assert render(brief, "docx") == render(brief, "docx")
    assert render(brief, "html") == render(brief, "html")
    assert b"D:20210727120000+00'00'" in pdf  # generated_at (19:00 local), not the clock


def test_docx_opens_and_holds_the_same_tables(brief: Brief) -> None:
    docx = open_docx(io.BytesIO(render(brief, "docx")))
    got = [[[cell.text for cell in row.cells] for row in table.rows] for table in docx.tables]
    want = [[list(t.header), *map(list, t.rows)] for t in build(brief, "vi").blocks
            if isinstance(t, Table)]  # fmt: skip
    assert got == want
    cases = next(t for t in got if t[0][0] == "Chỉ số")
    assert ["Ca mắc trong cộng đồng", "6", "+6", "0,9", "7/9"] in cases
    text = "\n".join(p.text for p in docx.paragraphs)
    assert "Số liệu tính đến 15:00 ngày 27/7/2021" in text
    assert docx.core_properties.author == "baocao"


class _Resources(HTMLParser):
    """Every URL the page would load by itself."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.images = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "data", "poster") and value:
                self.urls.append(value)
        self.images += tag == "img"


def test_html_is_one_printable_page_that_loads_nothing(brief: Brief) -> None:
    page = render(brief, "html").decode("utf-8")
    found = _Resources()
    found.feed(page)
    assert found.images == 3
    assert found.urls and all(u.startswith("data:image/png;base64,") for u in found.urls)
    assert not re.search(r"url\(|@import|https?://", page)
    assert "@media print" in page and '<html lang="vi">' in page
    assert "Huyện Phú Bình" in page and unicodedata.is_normalized("NFC", page)


def test_english_and_the_national_roll_up_render(
    poppler: None, brief: Brief, national: Brief, tmp_path: Path
) -> None:
    english = " ".join(pdf_text(render(brief, "pdf", "en"), tmp_path).split())
    assert "Figures as of 15:00 on 27/7/2021" in english
    assert "first 6 community cases after 38 days" in english
    nation = " ".join(pdf_text(render(national, "pdf"), tmp_path).split())
    assert "Toàn quốc — Ngày 27/7/2021" in nation and "Tỉnh Bắc Giang" in nation
    assert open_docx(io.BytesIO(render(national, "docx"))).tables
    assert "Toàn quốc" in render(national, "html").decode()


def test_decomposed_names_are_drawn_composed(poppler: None, brief: Brief, tmp_path: Path) -> None:
    """A name stored decomposed (NFD: "ê" + U+0302 + U+0301) comes out as "ế" and friends."""
    nfd = dataclasses.replace(brief, area_name=unicodedata.normalize("NFD", "Tỉnh Thái Nguyên"))
    assert "Tỉnh Thái Nguyên" not in nfd.area_name
    text = " ".join(pdf_text(render(nfd, "pdf"), tmp_path).split())
    assert "Tỉnh Thái Nguyên — Ngày 27/7/2021" in text
    assert unicodedata.is_normalized("NFC", text)
    assert "Tỉnh Thái Nguyên" in render(nfd, "html").decode()
