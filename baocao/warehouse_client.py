"""Ask the running warehouse service, or open the warehouse when no service runs.

chDB opens a data directory from one process only, so while `baocao up` (or `baocao
warehouse`) runs, every other command must go through its HTTP API; when nothing
runs, the command may open the warehouse itself.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from contract.settings import Settings
from warehouse.errors import WarehouseUnavailable


def service_url(settings: Settings, path: str) -> str:
    return f"http://{settings.http_host}:{settings.http_port}{path}"


def request(
    settings: Settings, path: str, method: str = "GET", data: bytes | None = None
) -> urllib.request.Request:
    """A request to the warehouse service, carrying the service token when one is set
    (``BAOCAO_INTERNAL_TOKEN``: its internal routes answer other hosts only with it)."""
    token = settings.internal_token.get_secret_value()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return urllib.request.Request(
        service_url(settings, path), data=data, method=method, headers=headers
    )


def ask(settings: Settings, path: str, direct: Callable[[Any], Any], timeout: float = 10.0) -> Any:
    """The service's JSON answer at ``path``, else ``direct(warehouse)`` on an opened one."""
    url = service_url(settings, path)
    try:
        with urllib.request.urlopen(request(settings, path), timeout=timeout) as resp:
            return json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        service_error = f"service at {url}: {exc}"
    if settings.warehouse != "chdb":
        # A ClickHouse server takes many clients, but the service is the documented way.
        raise WarehouseUnavailable(service_error)
    from warehouse.client import Warehouse  # only when no service owns the data

    try:
        with Warehouse.connect(settings) as wh:
            wh.ensure_schema()
            return direct(wh)
    except Exception as exc:  # locked by another process, missing, or broken
        raise WarehouseUnavailable(f"{service_error}; direct: {exc}") from exc
