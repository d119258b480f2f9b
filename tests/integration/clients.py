"""Many parallel submitters against a real service, and what the warehouse made of them.

Each client takes the next report, posts it to ``/api/v1/reports`` on 127.0.0.1, and
re-sends the same report (same report_id) until it gets an answer, as a submitter's
software does when the service is away: a report is either answered or still being
tried, never silently dropped by the client.
"""

from __future__ import annotations

import http.client
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from contract.registry import Registry
from contract.settings import Settings
from producers.http.auth import TokenStore
from warehouse.client import Warehouse

ACKNOWLEDGED = (200, 201, 202)


def province_tokens(data_dir: Path, registry: Registry) -> dict[str, str]:
    """One token per province, in the service's token file (``<data_dir>/tokens.sqlite``)."""
    store = TokenStore(data_dir / "tokens.sqlite")
    try:
        provinces = {u.province_id for u in registry if u.province_id}
        now = datetime.now(UTC)
        return {p: store.create(p, f"tinh-{p}", now)[1] for p in sorted(provinces)}
    finally:
        store.close()


def new_reports(registry: Registry, last: date, days: int) -> Iterator[dict[str, Any]]:
    """A fresh district report for every district and day, newest day first."""
    units = sorted(u.unit_id for u in registry if "district-daily" in u.datasets)
    for back in range(days):
        day = last - timedelta(days=back)
        for unit in units:
            cases = (hash((unit, day)) % 50) + 1
            yield {
                "report_id": str(uuid.uuid4()),
                "dataset": "district-daily",
                "unit_id": unit,
                "report_date": day.isoformat(),
                "values": {"cases_new": cases, "tests_pcr": 100 + cases, "tests_pcr_positive": 1},
            }


@dataclass
class Answer:
    body: dict[str, Any]
    status: int
    reply: dict[str, Any]
    seconds: float
    tries: int


@dataclass
class Clients:
    """``n`` threads posting ``work`` to the service on ``port`` until told to stop."""

    port: int
    tokens: dict[str, str]
    registry: Registry
    work: Iterator[dict[str, Any]]
    n: int = 8
    pause_s: float = 0.0
    give_up_s: float = 300.0
    answers: list[Answer] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(self.n)]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def join(self, timeout: float = 300.0) -> None:
        """Wait until every report of ``work`` has been answered."""
        for t in self._threads:
            t.join(timeout)

    def stop(self, timeout: float = 300.0) -> None:
        """Take no new report; wait until every report taken has been answered."""
        self._stop.set()
        for t in self._threads:
            t.join(timeout)

    def acknowledged(self) -> list[Answer]:
        return [a for a in self.answers if a.status in ACKNOWLEDGED]

    def _next(self) -> dict[str, Any] | None:
        with self._lock:
            return None if self._stop.is_set() else next(self.work, None)

    def _client(self) -> None:
        while (body := self._next()) is not None:
            answer = self.post(body)
            with self._lock:
                if answer is None:
                    self.failures.append(body["report_id"])
                else:
                    self.answers.append(answer)
            time.sleep(self.pause_s)

    def post(self, body: dict[str, Any]) -> Answer | None:
        """Post until the service answers (None if it never did within ``give_up_s``)."""
        unit = self.registry.get(body["unit_id"])
        assert unit is not None and unit.province_id is not None
        headers = {
            "Authorization": f"Bearer {self.tokens[unit.province_id]}",
            "Content-Type": "application/json",
        }
        raw = json.dumps(body)
        started = time.monotonic()
        tries = 0
        while time.monotonic() - started < self.give_up_s:
            tries += 1
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                t0 = time.monotonic()
                conn.request("POST", "/api/v1/reports", raw, headers)
                resp = conn.getresponse()
                reply = json.loads(resp.read() or b"{}")
                return Answer(body, resp.status, reply, time.monotonic() - t0, tries)
            except (OSError, http.client.HTTPException, ValueError):
                time.sleep(0.5)  # the service is away (killed, restarting): try again
            finally:
                conn.close()
        return None


def wait_outbox_decided(outbox: Path, acked: list[Answer], timeout: float = 300) -> int:
    """Until the service's outbox records a decision for every acknowledged report.

    The outbox marks a report decided once the warehouse holds its decision; read
    while the service runs (SQLite in WAL mode has room for a reader). Returns how many
    are decided when it returns (all, or fewer at the timeout).
    """
    ids = [a.body["report_id"] for a in acked]
    deadline = time.monotonic() + timeout
    decided = 0
    while True:
        db = sqlite3.connect(f"file:{outbox}?mode=ro", uri=True)
        try:
            decided = sum(
                db.execute(
                    "SELECT count(*) FROM submissions WHERE decided_at IS NOT NULL "
                    f"AND report_id IN ({','.join('?' * len(part))})",
                    part,
                ).fetchone()[0]
                for part in (ids[i : i + 500] for i in range(0, len(ids), 500))
            )
        finally:
            db.close()
        if decided >= len(ids) or time.monotonic() > deadline:
            return decided
        time.sleep(1.0)


def warehouse_of(acked: list[Answer], chdb_path: Path) -> dict[str, Any]:
    """Decisions, copies and totals the warehouse holds for the acknowledged reports.

    A report's decision stored twice (same report_id, revision and timeliness) is one
    decision: the warehouse's views count it once, as they do a redelivered one
    (README, Guarantees); ``copies`` says how many such extra rows there are. Opens the
    chDB directory itself: call it once no service runs on it.
    """
    ids = [a.body["report_id"] for a in acked]
    with Warehouse.connect(Settings(_env_file=None, chdb_path=chdb_path)) as wh:  # type: ignore[call-arg]
        wh.ensure_schema()
        found = wh.query_rows(
            "SELECT toString(report_id) AS rid, uniqExact(revision, timeliness), count() "
            "FROM reports WHERE report_id IN {ids:Array(UUID)} GROUP BY rid",
            {"ids": ids},
        )
        rejected = wh.query_rows(
            "SELECT report_id FROM rejections WHERE report_id IN {ids:Array(String)}", {"ids": ids}
        )
        keys = sorted({(a.body["unit_id"], a.body["report_date"]) for a in acked})
        latest = wh.query_rows(
            "SELECT unit_id, toString(report_date), value FROM report_values_latest "
            "WHERE dataset = 'district-daily' AND metric = 'cases_new' "
            "AND (unit_id, report_date) IN {keys:Array(Tuple(String, Date))}",
            {"keys": [(u, date.fromisoformat(d)) for u, d in keys]},
        )
    return {
        "decisions": {rid: int(n) for rid, n, _ in found},  # distinct (revision, timeliness)
        "copies": sum(int(rows) - 1 for _, _, rows in found),  # rows beyond one per report
        "rejected": [r[0] for r in rejected],
        "cases": sum(int(v) for _, _, v in latest),
        "unit_days": len(latest),
    }
