"""An API app with real tokens and outbox (SQLite in tmp), a fake broker and a fake warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from baocao.broker import free_port
from baocao.web import WebServer
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.events import ReportSubmitted
from contract.registry import Registry
from contract.settings import Settings
from producers.errors import PublishError
from producers.http.api import create_api
from producers.http.auth import TokenStore
from producers.http.known import KnownRevision
from producers.http.models import Decision, Revision
from producers.http.outbox import Outbox
from producers.kafka import Receipt

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2021, 7, 27, 10, 0, tzinfo=TZ)


class FakePublisher:
    """Acknowledge like a broker, or refuse like an unreachable one."""

    def __init__(self) -> None:
        self.down = False
        self.sent: list[ReportSubmitted] = []

    def send(self, reports: list[ReportSubmitted]) -> list[Receipt]:
        if self.down:
            raise PublishError("broker down (test)")
        out = []
        for r in reports:
            self.sent.append(r)
            out.append(
                Receipt(
                    str(r.report_id),
                    r.unit_id,
                    r.dataset,
                    r.report_date.isoformat(),
                    "reports.submitted",
                    0,
                    len(self.sent) - 1,
                )
            )
        return out


@dataclass
class FakeLookup:
    """A warehouse that holds whatever a test puts in it, counting the questions asked."""

    decided: dict[str, Decision] = field(default_factory=dict)
    stored: list[Revision] = field(default_factory=list)
    queries: int = 0

    def decisions(self, report_ids: list[str]) -> dict[str, Decision]:
        self.queries += 1
        return {r: self.decided[r] for r in report_ids if r in self.decided}

    def revisions(self, unit_id: str, since: date) -> list[Revision]:
        self.queries += 1
        return [r for r in self.stored if r.unit_id == unit_id and r.report_date >= since]

    def recent(self, since: date) -> list[Revision]:
        self.queries += 1
        return [r for r in self.stored if r.report_date >= since]


@dataclass
class Api:
    client: TestClient
    app: FastAPI
    clock: ManualClock
    publisher: FakePublisher
    lookup: FakeLookup
    outbox: Outbox
    tokens: dict[str, str]

    def auth(self, unit: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[unit]}"}

    def accepted(self, revision: Revision) -> None:
        """Put an accepted revision in the warehouse, and tell the desk as the sink does."""
        self.lookup.stored.append(revision)
        self.lookup.decided[revision.report_id] = Decision(
            status="accepted",
            revision=revision.revision,
            timeliness=revision.timeliness,
            warnings=revision.warnings,
        )
        desk = self.app.state.desk
        desk.known.add([KnownRevision.of(revision)])
        desk.outbox.mark_decided({revision.report_id: self.lookup.decided[revision.report_id]})


TOKEN_UNITS = {
    "173": "district",
    "19": "province",
    "CP-20-01": "checkpoint",
    "05908": "commune",
    "CP-19-01": "checkpoint",
}


def build(
    tmp: Path, publisher: object, settings: Settings | None = None, outbox_file: Path | None = None
) -> tuple[FastAPI, ManualClock, FakeLookup, Outbox, dict[str, str]]:
    settings = settings or Settings(_env_file=None, max_payload_bytes=4096)  # type: ignore[call-arg]
    clock = ManualClock(NOW)
    store = TokenStore(tmp / "tokens.sqlite")
    tokens = {}
    for unit in TOKEN_UNITS:
        _, tokens[unit] = store.create(unit, f"user-{unit}", NOW)
    outbox = Outbox(outbox_file or tmp / "outbox.sqlite")
    lookup = FakeLookup()
    app = create_api(
        settings,
        Registry.load(),
        Catalog.load(),
        clock,
        publisher,  # type: ignore[arg-type]
        lookup,
        store,
        outbox,
    )
    return app, clock, lookup, outbox, tokens


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    publisher = FakePublisher()
    app, clock, lookup, outbox, tokens = build(tmp_path, publisher)
    with TestClient(app) as client:
        yield Api(client, app, clock, publisher, lookup, outbox, tokens)


def report(**over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "dataset": "district-daily",
        "unit_id": "173",
        "report_date": "2021-07-27",
        "values": {"cases_new": 3, "cases_community": 1, "tests_pcr": 420, "tests_pcr_positive": 3},
    }
    body.update(over)
    return body


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` over real HTTP on a free 127.0.0.1 port, as the service does."""
    port = free_port()
    server = WebServer(app, "127.0.0.1", port)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
