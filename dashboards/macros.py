"""Turn a panel's Grafana SQL into ClickHouse SQL with server-side parameters.

Grafana's ClickHouse plugin pastes macros and variable text into the SQL; the viewer
must not paste anything that came from a request. So every ``'${name}'`` becomes a
``{name:String}`` parameter, the time macros become ``{from_time:...}`` parameters,
and anything else that looks like a macro or variable is refused.

The macros mean what the plugin docker-compose.yml pins makes of them
(grafana-clickhouse-datasource 4.20.0, ``pkg/macros/macros.go``): ``$__fromTime`` and
``$__toTime`` are the period's instants, ``$__timeFilter`` compares instants. Its
``$__dateFilter`` is refused here: it formats the dates in the plugin process's zone
(UTC in the Grafana image), so day filters are written with ``common.day_filter``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dashboards.common import TZ
from dashboards.errors import MacroError, VariableError

_TIME = f"DateTime64(3, '{TZ}')"
_COLUMN = r"([A-Za-z_][A-Za-z0-9_.]*)"
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(rf"\$__timeFilter\(\s*{_COLUMN}\s*\)"),
        rf"\1 BETWEEN {{from_time:{_TIME}}} AND {{to_time:{_TIME}}}",
    ),
    (re.compile(r"\$__fromTime\b"), f"{{from_time:{_TIME}}}"),
    (re.compile(r"\$__toTime\b"), f"{{to_time:{_TIME}}}"),
)
_QUOTED_VARIABLE = re.compile(r"'\$\{(\w+)\}'")
_DATE_FILTER = re.compile(r"\$__dateFilter\b")
_LEFTOVER = re.compile(r"\$(\{?\w+\}?)")

#: What each variable may hold; anything else is refused before any SQL runs.
PATTERNS: dict[str, re.Pattern[str]] = {
    "province": re.compile(r"^[0-9]{2}$"),
    "district": re.compile(r"^(|[A-Za-z0-9][A-Za-z0-9-]{0,31})$"),
    "dataset": re.compile(r"^[a-z][a-z0-9-]{0,63}$"),
}
#: Longest period one request may ask for (a grid of units by day grows with it).
MAX_DAYS = 366


@dataclass(frozen=True)
class TimeRange:
    """A period of whole local days, both ends included.

    ``as_of``: the instant the dashboard is looked at. When it falls inside the period,
    the period ends there (``$__toTime``), as Grafana's "now" does: what has not
    happened yet is pending, not missing. The viewer passes its service's clock, so a
    demo or replay on a simulated day is judged on that day.
    """

    start: date
    end: date
    as_of: datetime | None = None

    @classmethod
    def parse(cls, start: str, end: str, as_of: datetime | None = None) -> TimeRange:
        """Return the range from two ISO dates, or raise VariableError."""
        try:
            rng = cls(date.fromisoformat(start), date.fromisoformat(end), as_of)
        except ValueError as exc:
            raise VariableError(
                f"ngày không hợp lệ / invalid date: from={start!r} to={end!r}"
            ) from exc
        if not timedelta(0) <= rng.end - rng.start <= timedelta(days=MAX_DAYS):
            raise VariableError(
                f"khoảng thời gian phải từ 1 đến {MAX_DAYS + 1} ngày, 'from' trước 'to'"
                f" / the period must span 1 to {MAX_DAYS + 1} days, 'from' before 'to'"
            )
        return rng

    def parameters(self) -> dict[str, Any]:
        # Local wall-clock strings: the parameter type carries the zone, so ClickHouse
        # reads them as Asia/Ho_Chi_Minh instants whatever the server's own zone is.
        return {
            "from_time": f"{self.start.isoformat()} 00:00:00.000",
            "to_time": self._to_time(),
        }

    def _to_time(self) -> str:
        tz = ZoneInfo(TZ)
        end_of_day = f"{self.end.isoformat()} 23:59:59.999"
        if self.as_of is None:
            return end_of_day
        now = self.as_of.astimezone(tz)
        if (
            not datetime.combine(self.start, time(0), tz)
            <= now
            <= datetime.combine(self.end, time(23, 59, 59, 999000), tz)
        ):
            return end_of_day
        return now.strftime("%Y-%m-%d %H:%M:%S.") + f"{now.microsecond // 1000:03d}"


def check_variables(values: Mapping[str, str]) -> None:
    """Raise VariableError unless every value matches its variable's pattern."""
    for name, value in values.items():
        pattern = PATTERNS.get(name)
        if pattern is None:
            raise VariableError(f"biến không được hỗ trợ / unsupported variable: {name!r}")
        if not pattern.fullmatch(value):
            raise VariableError(
                f"giá trị không hợp lệ cho {name} / invalid value for {name}: {value!r}"
            )


def expand(sql: str, values: Mapping[str, str], period: TimeRange) -> tuple[str, dict[str, Any]]:
    """Return ClickHouse SQL and its parameters for a panel's Grafana SQL."""
    check_variables(values)
    if _DATE_FILTER.search(sql):
        raise MacroError(
            "không dùng $__dateFilter: Grafana tính ngày của nó theo UTC; hãy dùng"
            " dashboards.common.day_filter(cột) / $__dateFilter is not supported: Grafana's"
            " plugin computes its dates in UTC; use dashboards.common.day_filter(column)"
        )
    out = sql
    for pattern, replacement in _RULES:
        out = pattern.sub(replacement, out)
    params: dict[str, Any] = {}

    def bind(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise MacroError(f"biến chưa có giá trị / variable has no value: ${{{name}}}")
        params[f"var_{name}"] = values[name]
        return f"{{var_{name}:String}}"

    out = _QUOTED_VARIABLE.sub(bind, out)
    leftover = _LEFTOVER.search(out)
    if leftover:
        raise MacroError(
            f"macro hoặc biến không được hỗ trợ / unsupported macro or variable:"
            f" ${leftover.group(1)} (variables must be written '${{name}}', in quotes)"
        )
    if "{from_" in out or "{to_" in out:
        params.update(period.parameters())
    return out, params
