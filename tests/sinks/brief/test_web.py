"""The briefs on the warehouse service: the list, the files, no way out of the archive,
and the API the brief service and `baocao brief` use (over real HTTP for the former)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from baocao.broker import free_port
from baocao.cli_brief import ServiceMaker
from baocao.context import Context
from baocao.web import WebServer, build_app
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.registry import Registry
from contract.settings import Settings
from sinks.brief.archive import NATIONAL
from tests.sinks.brief import replay
from tests.sinks.brief.beside import BRIEF_AT, after, arrive, held_back, own_database
from tests.support.api_app import FakePublisher
from warehouse.client import Warehouse

TN, DAY = replay.THAI_NGUYEN, replay.DAY
V = "/briefs/19/2021-07-27"


@dataclass
class Site:
    client: TestClient
    settings: Settings
    url: str  # the same app served by uvicorn, as the brief service reaches it


@pytest.fixture(scope="module")
def site(
    warehouse: Warehouse,
    registry: Registry,
    replayed: replay.Replayed,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Site]:
    """The warehouse service's app on a database where Thái Nguyên has two versions."""
    root = tmp_path_factory.mktemp("brief-web")
    port = free_port()
    settings = Settings(brief_dir=root / "briefs", data_dir=root, http_port=port)
    clock = ManualClock(BRIEF_AT)
    with own_database(warehouse, registry, replayed) as wh:
        ctx = Context(settings, registry, Catalog.load(), clock)
        app = build_app(ctx, wh, lambda: {"paused": False}, FakePublisher())
        server = WebServer(app, "127.0.0.1", port)
        server.start()
        try:
            with TestClient(app) as client:
                for area in (TN, NATIONAL):
                    assert client.post(f"/api/briefs/make?area={area}&day={DAY}").json()["version"]
                late = held_back(replayed)
                arrive(wh, late)
                clock.set(after(late))
                made = client.post(f"/api/briefs/make?area={TN}&day={DAY}").json()["version"]
                assert made["version"] == 2
                yield Site(client, settings, f"http://127.0.0.1:{port}")
        finally:
            server.stop()


def test_the_list_shows_every_version_of_each_province_and_day(site: Site) -> None:
    page = site.client.get("/briefs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "Tỉnh Thái Nguyên" in text and "Toàn quốc" in text
    for n in (1, 2):
        for fmt in ("pdf", "docx", "html"):
            assert f"href='{V}/v{n}.{fmt}'" in text
    assert text.index("bản 2") < text.index("bản 1"), "newest first"
    assert "href='/briefs/national/2021-07-27/v1.pdf'" in text
    only = site.client.get("/briefs?province=19").text
    assert "Toàn quốc" not in only and f"{V}/v2.pdf" in only
    # A page is the month up to the newest brief; the link leads to the month before.
    assert "href='/briefs?to=2021-06-26&amp;province='" in text
    assert "No briefs yet" in site.client.get("/briefs?to=2021-07-26").text


def test_a_day_opens_its_newest_version_as_a_printable_page(site: Site) -> None:
    page = site.client.get(V)
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.content == (site.settings.brief_dir / "19/2021-07-27/v2.html").read_bytes()
    assert "@media print" in page.text
    first = site.client.get(f"{V}/v1.html").text
    nothing_late = "Không có báo cáo bổ sung sau thời điểm chốt số liệu."
    assert nothing_late in first and "18:06" not in first
    assert nothing_late not in page.text and "18:06" in page.text  # Phổ Yên's late report


@pytest.mark.parametrize(
    ("name", "media", "disposition"),
    [
        ("v1.pdf", "application/pdf", "attachment"),
        ("v2.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "attachment"),
        ("v2.html", "text/html; charset=utf-8", "inline"),
    ],
)  # fmt: skip
def test_each_archived_file_is_served_with_its_type_and_name(
    site: Site, name: str, media: str, disposition: str
) -> None:
    answer = site.client.get(f"{V}/{name}")
    assert answer.status_code == 200 and answer.headers["content-type"] == media
    assert answer.headers["content-disposition"] == (
        f'{disposition}; filename="bao-cao-nhanh-19-2021-07-27-{name}"'
    )
    assert answer.content == (site.settings.brief_dir / "19/2021-07-27" / name).read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/briefs/..%2F..%2Fdata/2021-07-27/v1.pdf",
        "/briefs/19/2021-07-27/..%2F..%2Fv1.pdf",
        "/briefs/19/2021-07-27/%2e%2e",
        "/briefs/19/..%2F2021-07-27/v1.pdf",
        "/briefs/19/2021-07-27/v1.pdf%00.html",
        "/briefs/19/2021-07-27/v9.pdf",
        "/briefs/19/2021-07-27/v1.PDF",
        "/briefs/19/2021-7-27/v1.pdf",
        "/briefs/19/not-a-day",
        "/briefs/%2Fetc/2021-07-27",
        "/briefs/20/2021-07-27",
    ],
)
def test_no_path_leaves_the_archive_and_unknown_briefs_are_404(site: Site, path: str) -> None:
    secret = site.settings.brief_dir.parent / "v1.pdf"
    secret.write_bytes(b"%PDF not in the archive")
    answer = site.client.get(path)
    assert answer.status_code == 404  # the brief routes' answer, or no route matched at all
    assert answer.json()["message_en"] in ("No such brief.", "Not Found")
    assert b"not in the archive" not in answer.content


def test_the_dashboards_and_the_home_page_link_to_the_briefs(site: Site) -> None:
    assert "href='/briefs'" in site.client.get("/dashboards").text
    assert "href='/briefs'" in site.client.get("/").text


def test_the_brief_service_reaches_the_archive_over_http(site: Site) -> None:
    maker = ServiceMaker(site.settings)
    listed = maker.versions(DAY, DAY)
    assert [(v.area, v.version) for v in listed] == [(TN, 2), (TN, 1), (NATIONAL, 1)]
    assert maker.fetch(listed[1], "pdf").startswith(b"%PDF")
    assert TN not in {d.area for d in maker.pending([DAY])}, "nothing new since v2"
    assert maker.make(TN, DAY) is None
    with pytest.raises(Exception, match="HTTP 400"):
        maker.make("../19", DAY)


def test_a_brief_is_rendered_for_the_cli_with_clear_refusals(site: Site) -> None:
    ok = site.client.get(f"/api/briefs/render?province=19&date={DAY}&format=html&lang=en")
    assert ok.status_code == 200 and "Thái Nguyên" in ok.text
    none = site.client.get("/api/briefs/render?province=19&date=2020-01-01&format=pdf")
    assert none.status_code == 404
    assert none.json()["message_vi"].startswith("Không có số liệu báo cáo ngày 01/01/2020")
    bad = site.client.get(f"/api/briefs/render?province=19&date={DAY}&format=exe")
    assert bad.status_code == 400
