"""Upload the generated dashboards to a Grafana through grafana-client."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import grafana_client
from grafana_client.client import GrafanaClientError, GrafanaException

from dashboards.catalog import DASHBOARDS
from dashboards.errors import DashboardError
from dashboards.grafana import dashboard_json

Change = Literal["create", "update", "unchanged"]
#: Fields Grafana manages itself; a difference there is not a change of ours.
_MANAGED = {"id", "version"}


@dataclass
class PublishResult:
    """What publishing did (or, in a dry run, would do) to the folder and each dashboard."""

    folder: Change = "unchanged"
    dashboards: dict[str, Change] = field(default_factory=dict)

    def lines(self, dry_run: bool) -> list[str]:
        verb = "sẽ / would" if dry_run else "đã / did"
        out = [f"folder: {verb} {self.folder}"]
        out += [f"{uid}: {verb} {change}" for uid, change in self.dashboards.items()]
        return out


def _existing(api: Any, uid: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = api.dashboard.get_dashboard(uid)
    except GrafanaClientError as exc:
        if exc.status_code == 404:
            return None
        raise
    return found.get("dashboard")


def _differs(ours: dict[str, Any], theirs: dict[str, Any] | None) -> Change:
    if theirs is None:
        return "create"
    same = all(theirs.get(k) == v for k, v in ours.items() if k not in _MANAGED)
    return "unchanged" if same else "update"


def publish(
    api: Any,  # grafana_client.GrafanaApi, which ships no type hints
    folder: str = "baocao",
    dry_run: bool = False,
    echo: Callable[[str], None] = print,
) -> PublishResult:
    """Create the folder if missing and upload every changed dashboard with overwrite."""
    result = PublishResult()
    try:
        folders = api.folder.get_all_folders()
        match = next((f for f in folders if folder in (f.get("uid"), f.get("title"))), None)
        folder_uid = match["uid"] if match else folder
        if match is None:
            result.folder = "create"
            if not dry_run:
                api.folder.create_folder(folder, uid=folder)
        for dashboard in DASHBOARDS:
            ours = dashboard_json(dashboard)
            change = _differs(ours, _existing(api, dashboard.uid))
            result.dashboards[dashboard.uid] = change
            if change != "unchanged" and not dry_run:
                body = {
                    "dashboard": {**ours, "id": None},
                    "folderUid": folder_uid,
                    "overwrite": True,
                    "message": "baocao dashboards publish",
                }
                api.dashboard.update_dashboard(body)
    except GrafanaException as exc:
        raise DashboardError(
            f"Grafana từ chối yêu cầu / Grafana refused the request: {exc}"
        ) from exc
    except OSError as exc:  # the HTTP client's connection errors derive from OSError
        raise DashboardError(f"không kết nối được Grafana / cannot reach Grafana: {exc}") from exc
    for line in result.lines(dry_run):
        echo(line)
    return result


def connect(url: str, token: str) -> Any:
    """Return a client for the Grafana at ``url`` using a service-account token."""
    api_class: Any = grafana_client.GrafanaApi  # type: ignore[attr-defined]  # no type hints
    return api_class.from_url(url, credential=token, timeout=30.0)
