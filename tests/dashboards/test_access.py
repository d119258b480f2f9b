"""Who may read what (baocao/access.py), on the warehouse service's real app over the
dashboards' scenario: province 19 (districts D1, D2, D3; D1 holds commune C1 and
checkpoint CP-1) and province 20 (district E1, 100 cases on the first day).

Requests from another host carry ``X-Forwarded-For``, as through the reverse proxy:
the service then treats them as remote, whatever address the proxy connects from.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from baocao.access import COOKIE, surface
from baocao.context import Context
from baocao.tokens import open_tokens
from baocao.web import build_app
from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.settings import Settings
from dashboards.catalog import DASHBOARDS
from producers.http.auth import TokenStore
from tests.support import dashboard_scenario as scenario
from tests.support.api_app import FakePublisher
from warehouse.client import Warehouse

NOW = datetime.fromisoformat("2021-08-03T16:00:00+07:00")
PERIOD = "from=2021-08-01&to=2021-08-03"
REMOTE = {"X-Forwarded-For": "203.0.113.9"}
METRICS_TOKEN = "metrics-scraper-token-0123456789abcdef"
PROVINCE_19 = {"19", "D1", "D2", "D3", "C1", "CP-1", "CP-2"}
PROVINCE_20 = {"20", "E1"}
INTERNAL = [
    "/",
    "/api/status",
    "/api/ledger-history",
    "/api/alert-history",
    "/api/compliance?date=2021-08-01",
    "/api/levels?date=2021-08-01&province=19",
    "/dashboards",
    f"/dashboards/baocao-situation/data?{PERIOD}",
    "/briefs",
    "/metrics",
]
PUBLIC = ["/submit", "/healthz", "/api/v1/openapi.json", "/static/viewer.js", "/signin"]


@dataclass
class Service:
    client: TestClient
    tokens: TokenStore
    clock: ManualClock

    def token(self, unit: str, *roles: str) -> str:
        _, secret = self.tokens.create(unit, f"reader {unit}", NOW, roles or ("read",))  # type: ignore[arg-type]
        return secret

    def get(self, path: str, token: str | None = None, **headers: str) -> Any:
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.get(path, headers={**REMOTE, **auth, **headers}, follow_redirects=False)


@pytest.fixture(scope="module")
def service(warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    root = Path(tmp_path_factory.mktemp("access"))
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, chdb_path=root / "warehouse", data_dir=root, metrics_token=METRICS_TOKEN
    )
    clock = ManualClock(NOW)
    ctx = Context(settings, scenario.registry(), Catalog.load(), clock)
    app = build_app(ctx, warehouse, lambda: {"paused": False}, FakePublisher(), settle=lambda: True)
    with TestClient(app) as client:
        yield Service(client, open_tokens(settings), clock)


def units_in(body: Any) -> set[str]:
    """Every unit id of either province that appears as a value anywhere in ``body``."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str):
            found.update(
                u for u in PROVINCE_19 | PROVINCE_20 if value == u or f"Đơn vị {u}" in value
            )

    walk(body)
    return found


def test_paths_are_sorted_into_surfaces() -> None:
    assert [surface(p) for p in ("/api/v1/reports", "/submit", "/static/plotly.min.js")] == [
        "public"
    ] * 3
    assert surface("/metrics") == "metrics"
    assert surface("/dashboards/baocao-situation/data") == "read"
    assert surface("/briefs/19/2021-08-01") == "read"
    assert surface("/api/status") == surface("/api/briefs/make") == "operator"
    assert surface("/submitted-by-mistake") == "operator"  # unknown: never public


@pytest.mark.parametrize("path", INTERNAL)
def test_every_internal_route_refuses_another_host_without_credentials(
    service: Service, path: str
) -> None:
    answer = service.get(path)
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"] == "unauthorized"


def test_a_browser_without_a_session_is_sent_to_sign_in(service: Service) -> None:
    answer = service.get("/dashboards/baocao-situation?province=19", accept="text/html")
    assert answer.status_code == 303
    assert (
        answer.headers["location"]
        == "/signin?next=%2Fdashboards%2Fbaocao-situation%3Fprovince%3D19"
    )


@pytest.mark.parametrize("path", PUBLIC)
def test_the_public_surface_answers_anyone(service: Service, path: str) -> None:
    assert service.get(path).status_code == 200


@pytest.mark.parametrize("path", INTERNAL)
def test_this_host_itself_reads_everything_without_a_token(service: Service, path: str) -> None:
    """`baocao status`, re-seeding and the embedded stack's own browser."""
    assert service.client.get(path).status_code == 200


def test_a_province_reader_sees_its_province_and_not_another(service: Service) -> None:
    token = service.token("20")
    for d in DASHBOARDS:
        mine = service.get(f"/dashboards/{d.uid}/data?{PERIOD}", token)  # defaults to its own
        assert mine.status_code == 200, (d.uid, mine.text)
        assert units_in(mine.json()) <= PROVINCE_20, d.uid
        other = service.get(f"/dashboards/{d.uid}/data?province=19&{PERIOD}", token)
        assert other.status_code == 403, d.uid
    situation = service.get(f"/dashboards/baocao-situation/data?{PERIOD}", token).json()
    assert situation["panels"]["cases_total"]["rows"] == [[100]]  # E1's, not province 19's
    page = service.get(f"/dashboards/baocao-situation?{PERIOD}", token).text
    assert "value='20'" in page and "value='19'" not in page  # only its own to choose


def test_a_district_reader_sees_its_communes_and_not_its_neighbours(service: Service) -> None:
    token = service.token("D1")
    grid = service.get(f"/dashboards/baocao-compliance/data?{PERIOD}", token)
    assert grid.status_code == 200
    assert "D1" in units_in(grid.json()) and not units_in(grid.json()) & {"D2", "D3", "E1"}
    screened = service.get(f"/dashboards/baocao-checkpoints/data?{PERIOD}", token).json()
    assert screened["panels"]["screened_total"]["rows"] == [[250]]  # CP-1 only (CP-2: 200)
    for query in ("district=D2", "district=", "province=20&district=E1"):
        refused = service.get(f"/dashboards/baocao-situation/data?province=19&{query}", token)
        assert refused.status_code == 403, query
    history = service.get("/api/ledger-history", token).json()
    assert history and {r["unit_id"] for r in history} <= {"D1", "C1", "CP-1"}
    province = service.get("/api/ledger-history", service.token("19")).json()
    assert {r["unit_id"] for r in province} == {"D1", "D2", "CP-1", "CP-2"}  # no E1


def test_a_reader_is_refused_the_operators_routes_and_other_briefs(service: Service) -> None:
    token = service.token("20")
    for path in ("/api/status", "/", "/api/levels", "/metrics", "/api/briefs/pending"):
        assert service.get(path, token).status_code == 403, path
    assert service.get("/briefs/19/2021-08-01", token).status_code == 403
    assert service.get("/briefs/20/2021-08-01", token).status_code == 404  # none made
    district = service.token("D1")
    assert service.get("/briefs/19/2021-08-01", district).status_code == 403


def test_roles_are_separate_authorities(service: Service) -> None:
    submitter = service.token("D1", "submit")
    assert service.get(f"/dashboards/baocao-situation/data?{PERIOD}", submitter).status_code == 401
    reader = service.token("D1")
    body = {"dataset": "district-daily", "unit_id": "D1", "report_date": "2021-08-03", "values": {}}
    sent = service.client.post(
        "/api/v1/reports", json=body, headers={"Authorization": f"Bearer {reader}"}
    )
    assert sent.status_code == 403 and "read" in sent.json()["message_en"]
    commune = service.token("C1")  # read tokens are for provinces and districts
    assert service.get("/dashboards", commune).status_code == 401


def test_only_a_bearer_header_carries_a_token(service: Service) -> None:
    token = service.token("19")
    path = f"/dashboards/baocao-situation/data?{PERIOD}"
    assert service.get(path, authorization=f"Basic {token}").status_code == 401
    assert service.get(path, authorization=f"bearer {token}").status_code == 200


def test_metrics_answer_a_scraper_with_its_token(service: Service) -> None:
    assert service.get("/metrics", METRICS_TOKEN).status_code == 200
    assert service.get("/api/status", METRICS_TOKEN).status_code == 401  # metrics only


def test_sign_in_keeps_a_strict_session_cookie_until_sign_out(service: Service) -> None:
    token = service.token("19")
    client = service.client
    answer = client.post(
        "/signin",
        content=f"token={token}&next=/dashboards/baocao-situation",
        headers={**REMOTE, "content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert (
        answer.status_code == 303 and answer.headers["location"] == "/dashboards/baocao-situation"
    )
    cookie = answer.headers["set-cookie"]
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "max-age"} <= flags and "samesite=strict" in cookie.lower()
    assert "secure" not in flags  # plain HTTP from the test client; behind TLS it is set
    session = cookie.split(";")[0].split("=", 1)[1]
    client.cookies.clear()
    seen = client.get(
        f"/dashboards/baocao-situation/data?{PERIOD}", headers=REMOTE, cookies={COOKIE: session}
    )
    assert seen.status_code == 200 and units_in(seen.json()) <= PROVINCE_19
    behind_tls = client.post(
        "/signin",
        content=f"token={token}",
        headers={
            **REMOTE,
            "x-forwarded-proto": "https",
            "content-type": "application/x-www-form-urlencoded",
        },
        follow_redirects=False,
    )
    assert "secure" in behind_tls.headers["set-cookie"].lower()
    out = client.post("/signout", headers=REMOTE, cookies={COOKIE: session}, follow_redirects=False)
    assert out.status_code == 303 and f"{COOKIE}=" in out.headers["set-cookie"]
    again = client.get("/dashboards", headers=REMOTE, cookies={COOKIE: session})
    assert again.status_code == 401
    client.cookies.clear()


def test_sign_in_refuses_a_bad_token_and_an_outside_next(service: Service) -> None:
    form = {"content-type": "application/x-www-form-urlencoded", **REMOTE}
    bad = service.client.post("/signin", content="token=bc_nope", headers=form)
    assert bad.status_code == 401 and "read" in bad.text
    token = service.token("19")
    away = service.client.post(
        "/signin",
        content=f"token={token}&next=//evil.example",
        headers=form,
        follow_redirects=False,
    )
    assert away.headers["location"] == "/dashboards"
    service.client.cookies.clear()


def test_a_revoked_token_ends_its_sessions(service: Service) -> None:
    token = service.token("19")
    token_id = token.split("_")[1]
    session = service.tokens.open_session(token_id, NOW + timedelta(hours=1))
    path = f"/dashboards/baocao-situation/data?{PERIOD}"
    assert service.get(path, cookie=f"{COOKIE}={session}").status_code == 200
    service.tokens.revoke(token_id, NOW)
    assert service.get(path, cookie=f"{COOKIE}={session}").status_code == 401
    expired = service.tokens.open_session(
        service.token("19").split("_")[1], NOW - timedelta(seconds=1)
    )
    assert service.get(path, cookie=f"{COOKIE}={expired}").status_code == 401


def test_the_production_profile_refuses_to_open_internal_routes() -> None:
    with pytest.raises(ValidationError, match="BAOCAO_READ_OPEN"):
        Settings(_env_file=None, profile="production", read_open=True)  # type: ignore[call-arg]
    assert Settings(_env_file=None, read_open=True).read_open  # type: ignore[call-arg]


def test_the_production_profile_serves_nothing_internal_off_this_host(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, profile="production", chdb_path=tmp_path / "warehouse", data_dir=tmp_path
    )
    ctx = Context(settings, scenario.registry(), Catalog.load(), ManualClock(NOW))
    app = build_app(ctx, warehouse, lambda: {"paused": False}, FakePublisher(), settle=lambda: True)
    with TestClient(app) as client:
        for path in INTERNAL:
            assert client.get(path, headers=REMOTE).status_code == 401, path
        assert client.get("/submit", headers=REMOTE).status_code == 200
