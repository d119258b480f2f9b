"""`baocao brief`: a PDF, DOCX or HTML file of a day's brief, and clear refusals."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner, Result

from baocao.broker import free_port
from baocao.cli import main
from baocao.context import Context
from baocao.web import WebServer, build_app
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.registry import Registry
from contract.settings import Settings
from tests.sinks.brief import replay
from tests.sinks.brief.beside import own_database
from tests.support.api_app import FakePublisher
from warehouse.client import Warehouse

DAY = replay.DAY.isoformat()


@pytest.fixture(scope="module")
def own(warehouse: Warehouse, registry: Registry, replayed: replay.Replayed) -> Iterator[Warehouse]:
    with own_database(warehouse, registry, replayed) as wh:
        yield wh


@pytest.fixture
def env(own: Warehouse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The CLI's environment: that warehouse, no service on the port; run in ``tmp_path``."""
    path = own.query_rows("SELECT path FROM system.disks WHERE name = 'default'")[0][0]
    monkeypatch.setenv("BAOCAO_CHDB_PATH", path)
    monkeypatch.setenv("BAOCAO_DATABASE", own.database)
    monkeypatch.setenv("BAOCAO_HTTP_PORT", str(free_port()))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def brief(*args: str) -> Result:
    return CliRunner().invoke(main, ["brief", *args], catch_exceptions=False)


def pdf_text(path: Path) -> str:
    assert shutil.which("pdftotext"), "apt-get install -y poppler-utils"
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def test_a_province_brief_as_pdf_docx_and_html(env: Path) -> None:
    done = brief("--date", DAY, "--province", "19", "--format", "pdf", "--out", "tn.pdf")
    assert done.exit_code == 0, done.output
    assert "wrote tn.pdf" in done.stdout and done.stderr == ""  # no bar for one province
    text = pdf_text(env / "tn.pdf")
    assert "Tỉnh Thái Nguyên" in text and "27/7/2021" in text

    assert brief("--date", DAY, "--province", "19", "--format", "docx").exit_code == 0
    document = docx.Document(str(env / "bao-cao-nhanh-19-2021-07-27.docx"))
    assert any("Thái Nguyên" in p.text for p in document.paragraphs)
    assert document.tables, "the figures are Word tables"

    done = brief("--date", DAY, "--province", "19", "--format", "html", "--lang", "en",
                 "--out", "tn.html")  # fmt: skip
    assert done.exit_code == 0
    html = (env / "tn.html").read_text("utf-8")
    assert "<html" in html and "reported" in html


def test_the_national_roll_up_shows_its_progress_on_stderr(env: Path) -> None:
    done = brief("--date", DAY, "--format", "html")
    assert done.exit_code == 0, done.output
    assert "báo cáo nhanh toàn quốc / national brief" in done.stderr
    assert "Toàn quốc" in (env / "bao-cao-nhanh-national-2021-07-27.html").read_text("utf-8")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--date", DAY, "--province", "99"], 2, "no province 99 in the registry"),
        (["--date", DAY, "--province", "173"], 2, "không có tỉnh mã 173"),  # a district
        (["--date", "27/07/2021", "--province", "19"], 2, "invalid date '27/07/2021'"),
        (["--date", DAY, "--format", "odt"], 2, "'odt' is not one of"),
        (["--date", "2020-01-01", "--province", "19"], 1,
         "Không có số liệu báo cáo ngày 01/01/2020 (tỉnh mã 19). / No reports for 2020-01-01"),
    ],
)  # fmt: skip
def test_refusals_are_bilingual_with_the_usual_exit_codes(
    env: Path, args: list[str], code: int, message: str
) -> None:
    done = brief(*args)
    assert done.exit_code == code
    assert message in done.stderr
    assert not list(env.glob("bao-cao-nhanh-*")), "no file on a refusal"


def test_with_the_stack_running_the_service_renders_it(
    env: Path, own: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("BAOCAO_HTTP_PORT", str(port))
    settings = Settings(_env_file=None, data_dir=env / "data", http_port=port)
    clock = ManualClock(datetime(2021, 7, 28, tzinfo=replay.TZ))
    ctx = Context(settings, Registry.load(), Catalog.load(), clock)
    server = WebServer(build_app(ctx, own, lambda: {}, FakePublisher()), "127.0.0.1", port)
    server.start()
    try:
        done = brief("--date", DAY, "--province", "19", "--out", "-", "--format", "html")
        assert done.exit_code == 0 and "Tỉnh Thái Nguyên" in done.stdout
        refused = brief("--date", "2020-01-01", "--province", "19")
        assert refused.exit_code == 1 and "No reports for 2020-01-01" in refused.stderr
    finally:
        server.stop()
