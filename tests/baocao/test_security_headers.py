"""Security headers on every response of the warehouse service's app, without a browser.

``tests/browser/test_csp.py`` shows the pages work under the policy in Chromium.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

from baocao import security_headers
from baocao.context import Context
from baocao.web import build_app
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.registry import Registry
from contract.settings import Settings
from producers.http.handlers import install_error_handlers
from tests.support.api_app import NOW, FakePublisher
from warehouse.client import Warehouse

#: One path of every kind the service serves, and whether it answers with a page.
PATHS = {
    "/": True,  # the home page
    "/submit": True,  # the submission form
    "/submit/form.js": False,
    "/api/v1/openapi.json": False,
    "/api/v1/docs": True,  # Swagger UI: its own policy, with its inline script's hash
    "/api/v1/docs-assets/swagger-ui-bundle.js": False,
    "/dashboards": True,
    "/dashboards/baocao-situation?from=2021-07-20&to=2021-07-27": True,
    "/dashboards/baocao-situation/data?from=2021-07-20&to=2021-07-27": False,
    "/static/viewer.js": False,
    "/briefs": True,
    "/healthz": False,
    "/no/such/page": False,  # a 404
}
STRICT = {
    "default-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = Path(tmp_path_factory.mktemp("headers"))
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, chdb_path=root / "warehouse", database="headers", data_dir=root
    )
    ctx = Context(settings, Registry.load(), Catalog.load(), ManualClock(NOW))
    with Warehouse.connect(settings) as wh:
        wh.ensure_schema()
        app = build_app(ctx, wh, lambda: {"paused": False}, FakePublisher(), settle=lambda: True)
        with TestClient(app) as client:
            yield client


def directives(csp: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header as {directive: sources}."""
    parts = (d.split() for d in csp.split(";") if d.strip())
    return {p[0]: p[1:] for p in parts}


def inline_scripts(page: str) -> list[str]:
    """The text of every ``<script>`` a browser would run that has no ``src``."""
    found = []
    for attrs, text in re.findall(r"<script\b([^>]*)>(.*?)</script>", page, re.DOTALL | re.I):
        if "src=" in attrs or "application/json" in attrs:  # a file, or a data block
            continue
        found.append(text)
    return found


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@pytest.mark.parametrize("path", PATHS)
def test_every_response_carries_the_headers(client: TestClient, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == (404 if path.startswith("/no/") else 200), resp.text[:300]
    assert resp.headers["x-content-type-options"] == "nosniff"
    is_page = resp.headers["content-type"].startswith("text/html")
    assert is_page == PATHS[path], resp.headers["content-type"]
    if not is_page:
        assert "content-security-policy" not in resp.headers
        return
    assert resp.headers["x-frame-options"] == "DENY"
    assert resp.headers["referrer-policy"] == "no-referrer"
    csp = directives(resp.headers["content-security-policy"])
    assert {k: csp.get(k) for k in STRICT} == STRICT
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]
    assert csp["img-src"] == ["'self'", "data:"]
    script = csp["script-src"]
    assert script[0] == "'self'"
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
    assert not re.search(r"\son[a-z]+\s*=", resp.text, re.I), "an inline event handler"
    inline = inline_scripts(resp.text)
    if path == "/api/v1/docs":  # exactly Swagger UI's start, by hash
        assert len(inline) == 1 and script[1:] == [sha256(inline[0])]
        assert '"validatorUrl": null' in inline[0]  # no badge from validator.swagger.io
    else:
        assert inline == [] and script == ["'self'"]


def test_the_form_loads_its_script_from_the_public_surface(client: TestClient) -> None:
    page = client.get("/submit").text
    assert '<script src="/submit/form.js"></script>' in page
    script = client.get("/submit/form.js")
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert script.text.startswith('"use strict";') and "function submitReport" in script.text
    assert "/submit/form.js" not in client.get("/api/v1/openapi.json").text


def test_headers_a_route_set_are_kept_and_errors_get_them_too() -> None:
    app = FastAPI()
    install_error_handlers(app)  # the crash handler answers outside user middleware
    own = "default-src 'none'"

    @app.get("/own")
    def own_policy() -> HTMLResponse:
        return HTMLResponse("<p>hi</p>", headers={"Content-Security-Policy": own})

    @app.get("/page")
    def page() -> HTMLResponse:
        return HTMLResponse("<p>hi</p>")

    @app.get("/crash")
    def crash() -> None:
        raise RuntimeError("boom (test)")

    security_headers.install(app)
    with TestClient(app, raise_server_exceptions=False) as client:
        kept = client.get("/own")
        assert kept.headers["content-security-policy"] == own
        assert kept.headers["x-frame-options"] == "DENY"
        assert client.get("/page").headers["content-security-policy"] == security_headers.CSP
        crashed = client.get("/crash")
        assert crashed.status_code == 500 and crashed.json()["error"] == "internal_error"
        assert crashed.headers["x-content-type-options"] == "nosniff"
        headers = client.get("/page").headers.raw
        assert [n for n, _ in headers].count(b"x-content-type-options") == 1
