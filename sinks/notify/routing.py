"""Which channels an alert goes to, from ``notify_routes`` in settings."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from contract.events import Alert

SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


class Route(BaseModel):
    """Send alerts of these kinds, at least this severity, from these provinces."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Literal["webhook", "email", "log"]
    kinds: list[str] | None = None  # None: every kind
    min_severity: Literal["info", "warning", "critical"] = "info"
    provinces: list[str] | None = None  # None: everywhere (summaries have no province)


def province_of(alert: Alert) -> str | None:
    value = alert.details.get("province_id")
    return str(value) if value else None


def matches(route: Route, alert: Alert) -> bool:
    if route.kinds is not None and alert.kind not in route.kinds:
        return False
    if SEVERITY_RANK[alert.severity] < SEVERITY_RANK[route.min_severity]:
        return False
    return route.provinces is None or province_of(alert) in route.provinces


def channels_for(alert: Alert, routes: list[Route]) -> list[str]:
    """Every channel with a matching route, each once, in route order."""
    out: list[str] = []
    for route in routes:
        if route.channel not in out and matches(route, alert):
            out.append(route.channel)
    return out


def parse_routes(raw: list[dict[str, Any]]) -> list[Route]:
    return [Route.model_validate(r) for r in raw]
