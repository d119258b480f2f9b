"""A ClickHouse HTTP endpoint backed by chDB, whose port opens only after a delay.

Enough of ClickHouse's HTTP interface for clickhouse-connect's queries and DDL
(``/ping``; the SQL in ``query`` and the body; ``param_*`` parameters; errors as
``Code: N. DB::Exception``), not for inserts, whose body is data. Run as a process:
``python -m tests.support.clickhouse_standin PORT DELAY_SECONDS DATA_DIR``; it binds PORT
only after DELAY_SECONDS, like a server still booting, and serves until killed.
"""

from __future__ import annotations

import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def serve(port: int, delay: float, path: str) -> None:
    from chdb import session

    engine = session.Session(path)
    lock = threading.Lock()  # one chDB session: one statement at a time

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            size = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(size).decode("utf-8") if size else ""
            if url.path == "/ping":
                self._send(200, b"Ok.\n")
                return
            sql = "\n".join(part for part in (query.get("query", ""), body) if part)
            params = {k.removeprefix("param_"): v for k, v in query.items() if k[:6] == "param_"}
            try:
                with lock:
                    result = engine.query(sql, "TabSeparated", params=params or None)
                self._send(200, result.bytes())
            except Exception as exc:  # chDB's own error text, as the server would send it
                self._send(500, f"Code: 1. DB::Exception: {exc}".encode())

        def _send(self, status: int, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

    time.sleep(delay)
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    serve(int(sys.argv[1]), float(sys.argv[2]), sys.argv[3])
