"""The viewer's HTTP routes: pages, data, static files and refusals, without a browser."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.dashboard_scenario import EXPECTED

PERIOD = "from=2021-08-01&to=2021-08-03"


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def data(viewer_url: str, uid: str, query: str) -> tuple[int, dict[str, Any]]:
    status, _, body = get(f"{viewer_url}/dashboards/{uid}/data?{query}")
    return status, json.loads(body)


def test_index_lists_every_dashboard(viewer_url: str) -> None:
    status, ctype, body = get(f"{viewer_url}/dashboards")
    assert status == 200 and ctype.startswith("text/html")
    for uid in ("baocao-situation", "baocao-compliance", "baocao-checkpoints", "baocao-quality"):
        assert f"/dashboards/{uid}" in body.decode()


def test_data_returns_the_scenario_numbers(viewer_url: str) -> None:
    status, got = data(viewer_url, "baocao-situation", f"province=19&{PERIOD}")
    assert status == 200
    assert got["panels"]["cases_total"]["rows"] == [[EXPECTED["cases_total"]]]
    assert got["as_of"].startswith("2021-08-03")


def test_chart_library_is_served_locally(viewer_url: str) -> None:
    status, ctype, body = get(f"{viewer_url}/static/plotly.min.js")
    assert status == 200 and "javascript" in ctype and len(body) > 1_000_000
    assert get(f"{viewer_url}/static/../../etc/passwd")[0] == 404


@pytest.mark.parametrize(
    "query",
    [
        "province=19'%20OR%201=1--",
        "province=1",
        "province=19&district=D1;DROP",
        "province=19&from=2021-08-05&to=2021-08-01",
        "province=19&from=yesterday",
        "province=19&from=2020-01-01&to=2021-08-03",
    ],
)
def test_bad_variables_are_refused_with_400(viewer_url: str, query: str) -> None:
    status, got = data(viewer_url, "baocao-situation", query)
    assert status == 400, got
    assert " / " in got["error"] and got["message_vi"] and got["message_en"]


def test_unknown_dashboard_is_404(viewer_url: str) -> None:
    assert get(f"{viewer_url}/dashboards/nope")[0] == 404
    assert get(f"{viewer_url}/dashboards/baocao-situation/other")[0] == 404


def test_page_is_vietnamese_by_default_and_escapes_choices(viewer_url: str) -> None:
    status, _, body = get(f"{viewer_url}/dashboards/baocao-compliance?{PERIOD}")
    page = body.decode()
    assert status == 200
    assert "Dữ liệu tính đến" in page and 'data-en="Data as of"' in page
    assert "<option value='D1'>" in page  # district choices from units_current
    assert "cdn" not in page.lower()


def test_without_dates_the_period_ends_on_the_services_today(warehouse: Any) -> None:
    """`baocao up`'s demo lives in 2021: its dashboards open on the demo's day, not today's."""
    from baocao import viewer
    from contract.clock import ManualClock

    demo_day = ManualClock(datetime(2021, 8, 3, 16, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")))
    answer = viewer.handle("/dashboards/baocao-situation/data?province=19", warehouse, demo_day)
    assert answer is not None and answer[0] == 200
    got = json.loads(answer[2])
    assert got["panels"]["cases_total"]["rows"] == [[EXPECTED["cases_total"]]]
    page = viewer.handle("/dashboards/baocao-situation?province=19", warehouse, demo_day)
    assert page is not None
    assert "name='from' value='2021-07-21'" in page[2].decode()
    assert "name='to' value='2021-08-03'" in page[2].decode()
    # The system clock's today holds none of the scenario's reports.
    answer = viewer.handle("/dashboards/baocao-situation/data?province=19", warehouse)
    assert answer is not None
    assert json.loads(answer[2])["panels"]["cases_total"]["rows"] != [[EXPECTED["cases_total"]]]
