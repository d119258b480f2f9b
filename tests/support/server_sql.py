"""What baocao's own processes send to a ClickHouse server, and the settings it runs under.

``Recorder`` stands between a ``Warehouse`` and its client and keeps every statement
with the function that sent it; ``readers()`` lists a call of every reader the web
service, the CLI, the brief and the sink's start-up use, so running them through a
``Recorder`` collects the statements. ``senders()`` finds every function in the code
that sends SQL, so a new one that ``readers()`` does not call is noticed.

The server's settings: ClickHouse's defaults of the version docker-compose.yml pins
(chDB is a newer engine; its ``compatibility`` setting restores an older release's
defaults), plus the profile of the user that sends the statement.
"""

from __future__ import annotations

import ast
import contextlib
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from baocao import health, status
from baocao.dhis2 import export as dhis2_export
from baocao.web import WarehouseLookup
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.registry import Registry
from dashboards.catalog import DASHBOARDS
from dashboards.common import TZ
from dashboards.macros import TimeRange
from dashboards.query import run_dashboard, variable_options
from sinks.brief.archive import Archive
from sinks.brief.gather import gather
from sinks.brief.maker import BriefMaker, NoBrief, check_brief, reported_units
from tests.support.grafana_sql import Sent
from warehouse import approvals, compliance, history, surveillance
from warehouse.client import Warehouse

ROOT = Path(__file__).resolve().parents[2]
READONLY_XML = ROOT / "dashboards" / "provisioning" / "clickhouse" / "grafana-readonly.xml"
DATASOURCE = ROOT / "dashboards" / "provisioning" / "datasources" / "clickhouse.yaml"
#: Where the code that talks to a warehouse lives (bench/ measures; it is not deployed).
PACKAGES = ("baocao", "contract", "dashboards", "producers", "sinks", "streams", "warehouse")
#: The calls that send SQL through a ``Warehouse`` (``insert`` is the driver's INSERT).
SENDING = {"query_rows", "query_dicts", "query_columns", "command"}
#: ``Warehouse``'s own plumbing: a statement is the function's that called through it.
_PLUMBING = {"_run", "command", "query_rows", "query_dicts", "query_columns", "insert"}
_WAREHOUSE = str(ROOT / "warehouse" / "client.py")
DAY = date(2021, 8, 2)
NOW = datetime(2021, 8, 2, 9, 30, tzinfo=UTC)  # after the day's 15:00 local deadline


def compose_service(name: str) -> dict[str, Any]:
    """One service of docker-compose.yml."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    service: dict[str, Any] = compose["services"][name]
    return service


def server_version() -> str:
    """``major.minor`` of the ClickHouse server docker-compose.yml runs."""
    tag = str(compose_service("clickhouse")["image"]).rpartition(":")[2]
    return ".".join(tag.split(".")[:2])


def server_defaults() -> dict[str, str]:
    """The settings every user of that server starts from, as chDB can mirror them."""
    return {"compatibility": server_version()}


def grafana_user() -> tuple[str, str]:
    """(user, database) Grafana's provisioned datasource logs in with."""
    source = yaml.safe_load(DATASOURCE.read_text("utf-8"))["datasources"][0]["jsonData"]
    return source["username"], source["defaultDatabase"]


def grafana_profile() -> dict[str, str]:
    """The settings of Grafana's read-only ClickHouse user, from its users.d file."""
    tree = ET.parse(READONLY_XML).getroot()
    user = tree.find(f"users/{grafana_user()[0]}")
    assert user is not None, f"{READONLY_XML} defines no {grafana_user()[0]}"
    profile = tree.find(f"profiles/{user.findtext('profile')}")
    assert profile is not None, f"{READONLY_XML} lacks the profile of {grafana_user()[0]}"
    return {child.tag: (child.text or "").strip() for child in profile}


class Recorder:
    """A warehouse client that keeps every statement and who sent it, then passes it on."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.sent: list[Sent] = []
        self.inserts: list[tuple[str, Sequence[str], Mapping[str, Any]]] = []
        self.label = ""

    @property
    def database(self) -> Any:
        return self._client.database

    @database.setter
    def database(self, value: Any) -> None:
        self._client.database = value

    def _note(self, sql: str, parameters: Mapping[str, Any] | None) -> None:
        origin = f"{sender()} via {self.label}" if self.label else sender()
        self.sent.append(Sent(origin, sql, dict(parameters or {})))

    def command(self, sql: str, parameters: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        self._note(sql, parameters)
        return self._client.command(sql, parameters=parameters, **kw)

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        self._note(sql, parameters)
        return self._client.query(sql, parameters=parameters, **kw)

    def insert(self, table: str, data: Any, **kw: Any) -> Any:
        self.inserts.append((table, kw.get("column_names") or (), kw.get("settings") or {}))
        return self._client.insert(table, data, **kw)

    def close(self) -> None:
        self._client.close()


def sender() -> str:
    """``path:function`` of the code that sent the statement being recorded."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        path = code.co_filename
        inner = code.co_name.startswith("<")  # a lambda or comprehension: its function's
        plumbing = path == _WAREHOUSE and code.co_name in _PLUMBING
        if path != __file__ and not inner and not plumbing:
            where = Path(path).resolve().relative_to(ROOT)
            return f"{where}:{str(code.co_qualname).replace('.<locals>', '')}"
        frame = frame.f_back
    return "?"


def senders() -> set[str]:
    """``path:function`` of every function in the deployed code that sends SQL."""
    found = set()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            where = str(path.relative_to(ROOT))
            for name, func in _functions(ast.parse(path.read_text("utf-8")), ""):
                if where == "warehouse/client.py" and func.name in _PLUMBING:
                    continue
                if any(
                    isinstance(c.func, ast.Attribute) and c.func.attr in SENDING
                    for c in _own_calls(func)
                ):
                    found.add(f"{where}:{name}")
    return found


Function = ast.FunctionDef | ast.AsyncFunctionDef


def _functions(node: ast.AST, prefix: str) -> Iterator[tuple[str, Function]]:
    """Each function (methods and nested ones too) with its qualified name."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}.{child.name}" if prefix else child.name
            if not isinstance(child, ast.ClassDef):
                yield name, child
            yield from _functions(child, name)
        else:
            yield from _functions(child, prefix)


def _own_calls(func: Function) -> Iterator[ast.Call]:
    """The calls in a function's body, not in the functions or classes it defines."""
    stack: list[ast.AST] = list(func.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        if isinstance(node, ast.Call):
            yield node
        stack.extend(ast.iter_child_nodes(node))


Reader = tuple[str, Callable[[Warehouse], object]]


def readers(registry: Registry, catalog: Catalog, brief_dir: Path) -> list[Reader]:
    """Every reader the server path runs, with a label for failure messages."""
    tz = ZoneInfo(TZ)

    def brief_maker(wh: Warehouse) -> BriefMaker:
        archive = Archive(brief_dir, wh)
        return BriefMaker(wh, registry, catalog, archive, tz, ManualClock(NOW))

    def checked(wh: Warehouse, province: str | None) -> None:
        with contextlib.suppress(NoBrief):  # nothing to brief, but the query ran
            check_brief(wh, registry, province, DAY)

    period = TimeRange(DAY - timedelta(days=13), DAY, NOW)
    out: list[Reader] = [
        ("Warehouse.ensure_schema", lambda wh: wh.ensure_schema()),
        ("Warehouse.load_units", lambda wh: wh.load_units(registry)),
        ("Warehouse.check", lambda wh: wh.check()),
        ("GET /api/status", status.warehouse_summary),
        ("GET /metrics", health._row_counts),
        ("GET /api/history", history.report_history),
        ("GET /api/alerts/history", history.alert_history),
        ("baocao compliance", lambda wh: compliance.compliance(wh, DAY)),
        (
            "GET /api/compliance?province&dataset",
            lambda wh: compliance.compliance(wh, DAY, "19", "district-daily"),
        ),
        ("GET /api/levels", lambda wh: surveillance.levels(wh, DAY, "19")),
        ("GET /api/signals", lambda wh: surveillance.signals(wh, DAY, "19")),
        (
            "API receipts",
            lambda wh: WarehouseLookup(wh).decisions(["00000000-0000-4000-8000-000000000001"]),
        ),
        ("API unit history", lambda wh: WarehouseLookup(wh).revisions("173", DAY)),
        ("API start-up", lambda wh: WarehouseLookup(wh).recent(DAY)),
        ("GET /api/v1/approvals", lambda wh: approvals.listing(wh, "district-daily", DAY, ["173"])),
        ("API start-up (approvals)", lambda wh: approvals.latest_decisions(wh, DAY)),
        ("baocao brief (province)", lambda wh: checked(wh, "19")),
        ("baocao brief (nation)", lambda wh: checked(wh, None)),
        ("brief units", lambda wh: reported_units(wh, "19", DAY)),
        (
            "brief of a province",
            lambda wh: gather(wh, registry, catalog, "19", DAY, tz, NOW),
        ),
        ("national brief", lambda wh: gather(wh, registry, catalog, None, DAY, tz, NOW)),
        ("brief service", lambda wh: brief_maker(wh).pending([DAY])),
        ("GET /briefs", lambda wh: brief_maker(wh).versions(DAY, DAY, "19")),
        ("GET /briefs (newest month)", lambda wh: Archive(brief_dir, wh).newest_day()),
        (
            "baocao dhis2 export",
            lambda wh: dhis2_export.latest_reports(wh, "district-daily", DAY, DAY),
        ),
    ]
    for board in DASHBOARDS:
        values = {v.name: v.default for v in board.variables}
        out.append((f"viewer {board.uid}", _viewer(board, values, period)))
    return out


def _viewer(board: Any, values: dict[str, str], period: TimeRange) -> Callable[[Warehouse], None]:
    def run(wh: Warehouse) -> None:
        variable_options(wh, board, values)
        run_dashboard(wh, board, values, period)

    return run
