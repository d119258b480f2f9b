"""The SQL Grafana sends to ClickHouse, read from what it is provisioned with.

Every panel and variable query of the dashboard JSON Grafana loads, and every alert
rule's query, with the variables filled in as Grafana does (their current values; "All"
is the variable's ``allValue``) and the macros expanded as the ClickHouse plugin's
``pkg/macros/macros.go`` at the version docker-compose.yml installs (``PLUGIN``) does:
literal values, where baocao's own viewer binds parameters (dashboards/macros.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "dashboards" / "provisioning" / "alerting" / "baocao-rules.yaml"
#: The plugin release whose macros this module mirrors; test_server_sql checks the pin.
PLUGIN = "grafana-clickhouse-datasource@4.20.0"
#: "now" for the dashboards' relative time ranges (an instant during the reporting day).
NOW = datetime(2021, 8, 2, 3, 30, tzinfo=UTC)
#: Grafana's default interval for a range this long is far below a day; any value parses.
INTERVAL = timedelta(minutes=20)

_MACRO = re.compile(r"\$__(\w+)")
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


@dataclass(frozen=True)
class Sent:
    """One statement sent to the warehouse, with where it comes from (for failure messages)."""

    origin: str
    sql: str
    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime


def _date(t: datetime) -> str:
    # Go formats the instant in the plugin process's zone: the Grafana image's, UTC.
    return f"toDate('{t.astimezone(UTC):%Y-%m-%d}')"


def _seconds(t: datetime) -> str:
    return f"toDateTime({int(t.timestamp())})"


def _millis(t: datetime) -> str:
    return f"fromUnixTimestamp64Milli({int(t.timestamp() * 1000)})"


def _range(col: str, low: str, high: str) -> str:
    return f"{col} >= {low} AND {col} <= {high}"


def _duration(text: str) -> int:
    """Whole seconds of a Go duration such as '5m' or '1h30m' (``time.ParseDuration``)."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text.strip().strip("'\""))
    if not parts:
        raise ValueError(f"$__timeGroup: invalid interval {text!r}")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return round(sum(float(n) * scale[unit] for n, unit in parts))


_SECONDS = max(int(INTERVAL.total_seconds()), 1)
#: name -> (argument count, expansion); as macros.go v4.20.0 writes each one.
_MACROS: dict[str, tuple[int, Callable[[Span, list[str]], str]]] = {
    "timeFilter": (1, lambda s, a: _range(a[0], _seconds(s.start), _seconds(s.end))),
    "timeFilter_ms": (1, lambda s, a: _range(a[0], _millis(s.start), _millis(s.end))),
    "dateFilter": (1, lambda s, a: _range(a[0], _date(s.start), _date(s.end))),
    "dateTimeFilter": (
        2,
        lambda s, a: (
            f"({_range(a[0], _date(s.start), _date(s.end))})"
            f" AND ({_range(a[1], _seconds(s.start), _seconds(s.end))})"
        ),
    ),
    "timeFrom": (1, lambda s, a: f"{a[0]} >= {_seconds(s.start)}"),
    "timeTo": (1, lambda s, a: f"{a[0]} <= {_seconds(s.end)}"),
    "fromTime": (0, lambda s, a: _seconds(s.start)),
    "toTime": (0, lambda s, a: _seconds(s.end)),
    "fromTime_ms": (0, lambda s, a: _millis(s.start)),
    "toTime_ms": (0, lambda s, a: _millis(s.end)),
    "timeInterval": (
        1,
        lambda s, a: f"toStartOfInterval(toDateTime({a[0]}), INTERVAL {_SECONDS} second)",
    ),
    "timeInterval_ms": (
        1,
        lambda s, a: (
            f"toStartOfInterval(toDateTime64({a[0]}, 3), INTERVAL {_SECONDS * 1000} millisecond)"
        ),
    ),
    "timeGroup": (
        2,
        lambda s, a: f"toStartOfInterval(toDateTime({a[0]}), INTERVAL {_duration(a[1])} second)",
    ),
    "interval_s": (0, lambda s, a: str(_SECONDS)),
}
_MACROS["dt"] = _MACROS["dateTimeFilter"]


def _arguments(sql: str, start: int) -> tuple[list[str], int]:
    """The comma-separated arguments of the parenthesis opening at ``start``, and its end."""
    depth, args, begin = 0, [], start + 1
    for i in range(start, len(sql)):
        if sql[i] == "(":
            depth += 1
        elif sql[i] == ")":
            depth -= 1
            if depth == 0:
                args.append(sql[begin:i].strip())
                return [a for a in args if a], i + 1
        elif sql[i] == "," and depth == 1:
            args.append(sql[begin:i].strip())
            begin = i + 1
    raise ValueError(f"unbalanced parenthesis after a macro: {sql[start : start + 40]!r}")


def expand_macros(sql: str, span: Span) -> str:
    """Expand the plugin's macros; an unknown one stays as written, as the plugin leaves it."""
    out, pos = [], 0
    for m in _MACRO.finditer(sql):
        if m.start() < pos or m.group(1) not in _MACROS:
            continue
        wanted, expand = _MACROS[m.group(1)]
        args: list[str] = []
        end = m.end()
        if end < len(sql) and sql[end] == "(":
            args, end = _arguments(sql, end)
        if len(args) != wanted:
            raise ValueError(f"$__{m.group(1)} takes {wanted} argument(s), got {args}")
        out.append(sql[pos : m.start()] + expand(span, args))
        pos = end
    return "".join(out) + sql[pos:]


def fill_variables(sql: str, values: Mapping[str, str]) -> str:
    """Replace ``${name}``, ``$name`` and ``[[name]]`` of known variables by their text."""

    def one(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2) or m.group(3)
        return values[name] if name in values else m.group(0)

    return _VARIABLE.sub(one, sql)


def variable_values(dashboard: Mapping[str, Any]) -> dict[str, str]:
    """Each variable's current value as Grafana interpolates it (All: its ``allValue``)."""
    out = {}
    for var in dashboard.get("templating", {}).get("list", []):
        value = var.get("current", {}).get("value", "")
        if var.get("includeAll") and value in ("", "$__all", ["$__all"]):
            value = var.get("allValue", "")
        out[var["name"]] = str(value)
    return out


def _relative(text: str) -> datetime:
    """``now`` or ``now-14d`` style instants (the forms the generator writes)."""
    m = re.fullmatch(r"now(?:-(\d+)([mhdw]))?", text)
    if m is None:
        raise ValueError(f"unsupported relative time {text!r}")
    if m.group(1) is None:
        return NOW
    unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[m.group(2)]
    return NOW - timedelta(**{unit: int(m.group(1))})


def dashboard_statements(path: Path) -> Iterator[Sent]:
    """Every query of one dashboard JSON, as the plugin sends it."""
    board = json.loads(path.read_text("utf-8"))
    name = str(path.relative_to(ROOT))
    span = Span(_relative(board["time"]["from"]), _relative(board["time"]["to"]))
    values = variable_values(board)
    for var in board.get("templating", {}).get("list", []):
        sql = var["query"]["rawSql"] if isinstance(var["query"], dict) else var["query"]
        yield Sent(
            f"{name} variable {var['name']}", expand_macros(fill_variables(sql, values), span)
        )
    for panel in board.get("panels", []):
        for target in panel.get("targets", []):
            sql = expand_macros(fill_variables(target["rawSql"], values), span)
            yield Sent(f"{name} panel {panel['id']} {panel['title']!r}", sql)


def alert_statements(path: Path = RULES) -> Iterator[Sent]:
    """Every alert rule query sent to the ClickHouse datasource, over its relative range."""
    for group in yaml.safe_load(path.read_text("utf-8"))["groups"]:
        for rule in group["rules"]:
            for query in rule["data"]:
                if query["datasourceUid"] == "__expr__":
                    continue
                rel = query["relativeTimeRange"]
                span = Span(
                    NOW - timedelta(seconds=rel["from"]), NOW - timedelta(seconds=rel["to"])
                )
                sql = expand_macros(query["model"]["rawSql"], span)
                yield Sent(f"{path.relative_to(ROOT)} rule {rule['uid']} {query['refId']}", sql)


def grafana_statements() -> list[Sent]:
    """Every panel, variable and alert query Grafana is provisioned to send."""
    boards = sorted((ROOT / "dashboards").rglob("*.json"))  # what its provider loads
    return [s for path in boards for s in dashboard_statements(path)] + list(alert_statements())
