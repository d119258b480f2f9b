"""The site's icon: served to anyone (no 404 in any page's console), named by every page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from baocao import viewer
from baocao.context import Context
from baocao.web import build_app
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.registry import Registry
from contract.settings import Settings
from tests.support.api_app import NOW, FakePublisher
from warehouse.client import Warehouse

#: A request a proxy forwarded from elsewhere, with no credential: the public's view.
REMOTE = {"X-Forwarded-For": "203.0.113.9"}
ICON = Path(viewer.__file__).parents[1] / "dashboards" / "static" / "favicon.svg"
PAGES = ["/", "/dashboards", "/dashboards/baocao-situation", "/briefs", "/signin"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = Path(tmp_path_factory.mktemp("favicon"))
    settings = Settings(
        _env_file=None, chdb_path=root / "warehouse", database="favicon", data_dir=root,
        brief_dir=root / "briefs",
    )  # fmt: skip
    ctx = Context(settings, Registry.load(), Catalog.load(), ManualClock(NOW))
    with Warehouse.connect(settings) as wh:
        wh.ensure_schema()
        app = build_app(ctx, wh, lambda: {"paused": False}, FakePublisher(), settle=lambda: True)
        with TestClient(app) as client:
            yield client


@pytest.mark.parametrize("path", ["/favicon.ico", "/static/favicon.svg"])
def test_the_icon_is_served_to_anyone(client: TestClient, path: str) -> None:
    answer = client.get(path, headers=REMOTE, follow_redirects=False)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("image/svg+xml")
    assert answer.content == ICON.read_bytes()
    assert answer.content.startswith(b"<svg") and len(answer.content) < 2048


@pytest.mark.parametrize("path", PAGES)
def test_every_page_names_the_icon(client: TestClient, path: str) -> None:
    answer = client.get(path)  # from this host: the operator's own view
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    links = re.findall(r"<link rel='icon'[^>]*>", answer.text)
    assert links == [viewer.ICON_LINK], path
