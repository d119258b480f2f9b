"""`baocao dashboards publish` against a local HTTP server that plays Grafana's API.

It records every request and checks the bodies; a real Grafana is exercised only in the
docker-compose stack.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from baocao.cli import main
from dashboards.catalog import DASHBOARDS
from dashboards.errors import DashboardError
from dashboards.publish import connect, publish

TOKEN = "glsa_test-token"


@dataclass
class FakeGrafana:
    url: str = ""
    folders: list[dict[str, Any]] = field(default_factory=list)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    writes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    auth: set[str] = field(default_factory=set)


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    fake = FakeGrafana()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def reply(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            fake.auth.add(self.headers.get("Authorization", ""))
            path = urlsplit(self.path).path
            if path == "/api/folders":
                return self.reply(200, fake.folders)
            if path.startswith("/api/dashboards/uid/"):
                found = fake.dashboards.get(path.rsplit("/", 1)[1])
                if found is None:
                    return self.reply(404, {"message": "Dashboard not found"})
                return self.reply(200, {"dashboard": found, "meta": {"folderUid": "baocao"}})
            self.reply(404, {"message": "not found"})

        def do_POST(self) -> None:
            fake.auth.add(self.headers.get("Authorization", ""))
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            path = urlsplit(self.path).path
            fake.writes.append((path, body))
            if path == "/api/folders":
                assert set(body) <= {"title", "uid", "parentUid"}, body
                fake.folders.append({"id": 1, "uid": body["uid"], "title": body["title"]})
                return self.reply(200, fake.folders[-1])
            if path == "/api/dashboards/db":
                board = dict(body["dashboard"], id=len(fake.dashboards) + 1, version=2)
                fake.dashboards[board["uid"]] = board
                return self.reply(200, {"status": "success", "uid": board["uid"], "version": 2})
            self.reply(404, {"message": "not found"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()
    server.server_close()


def test_publish_creates_the_folder_and_uploads_every_dashboard(grafana: FakeGrafana) -> None:
    result = publish(connect(grafana.url, TOKEN), echo=lambda _: None)
    assert result.folder == "create"
    assert set(result.dashboards.values()) == {"create"}
    assert grafana.auth == {f"Bearer {TOKEN}"}
    paths = [p for p, _ in grafana.writes]
    assert paths == ["/api/folders"] + ["/api/dashboards/db"] * len(DASHBOARDS)
    assert grafana.writes[0][1] == {"title": "baocao", "uid": "baocao"}
    for _, body in grafana.writes[1:]:
        assert body["overwrite"] is True and body["folderUid"] == "baocao"
        assert body["dashboard"]["id"] is None
        targets = [t for p in body["dashboard"]["panels"] for t in p["targets"]]
        assert targets and all(t["rawSql"] and t["refId"] for t in targets)
    assert set(grafana.dashboards) == {d.uid for d in DASHBOARDS}


def test_publishing_again_changes_nothing(grafana: FakeGrafana) -> None:
    api = connect(grafana.url, TOKEN)
    publish(api, echo=lambda _: None)
    grafana.writes.clear()
    result = publish(api, echo=lambda _: None)
    assert result.folder == "unchanged" and set(result.dashboards.values()) == {"unchanged"}
    assert grafana.writes == []


def test_dry_run_reports_changes_and_writes_nothing(grafana: FakeGrafana) -> None:
    api = connect(grafana.url, TOKEN)
    publish(api, echo=lambda _: None)
    grafana.writes.clear()
    grafana.dashboards["baocao-quality"]["title"] = "edited by hand in Grafana"
    lines: list[str] = []
    result = publish(api, dry_run=True, echo=lines.append)
    assert result.dashboards["baocao-quality"] == "update"
    assert result.dashboards["baocao-situation"] == "unchanged"
    assert "baocao-quality: sẽ / would update" in lines
    assert grafana.writes == []


def test_cli_dry_run_against_an_empty_grafana(grafana: FakeGrafana) -> None:
    out = CliRunner().invoke(
        main, ["dashboards", "publish", "--grafana-url", grafana.url, "--token", TOKEN, "--dry-run"]
    )
    assert out.exit_code == 0, out.output
    assert "folder: sẽ / would create" in out.output
    assert out.output.count("would create") == 1 + len(DASHBOARDS)
    assert grafana.writes == []


def test_a_refusing_grafana_is_a_clear_error(grafana: FakeGrafana) -> None:
    with pytest.raises(DashboardError, match="Grafana refused"):
        publish(connect(grafana.url + "/nowhere", TOKEN), echo=lambda _: None)
