"""A chDB warehouse holding the known scenario, for the dashboard and browser tests.

Each test package imports these fixtures in its conftest, so each package gets its own
warehouse and closes it when the package ends (chDB opens one directory per process).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from contract.settings import Settings
from tests.support import dashboard_scenario as scenario
from warehouse.client import Warehouse


@pytest.fixture(scope="package")
def filled() -> scenario.Filled:
    return scenario.events()


@pytest.fixture(scope="package")
def warehouse(
    tmp_path_factory: pytest.TempPathFactory, filled: scenario.Filled
) -> Iterator[Warehouse]:
    """One chDB directory for the package, closed at its end (one open directory per process)."""
    path: Path = tmp_path_factory.mktemp("dash-warehouse")
    settings = Settings(warehouse="chdb", chdb_path=path, database="dash")
    with Warehouse.connect(settings) as wh:
        wh.ensure_schema()
        wh.load_units(scenario.registry())
        scenario.fill(wh, filled)
        yield wh


@pytest.fixture(scope="package")
def viewer_url(warehouse: Warehouse) -> Iterator[str]:
    """Serve the viewer over HTTP on a free port, as the warehouse service does."""
    from baocao import viewer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            answer = viewer.handle(self.path, warehouse) or (404, "text/plain", b"not found")
            status, ctype, body = answer
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
