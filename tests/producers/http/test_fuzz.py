"""Property-based fuzzing: whatever arrives, no 500, and every error says why in vi and en."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract.settings import Settings
from tests.support.api_app import FakePublisher, build

OK = {200, 201, 202}
ERRORS = {400, 401, 403, 404, 405, 409, 413, 422}  # 405: GET /reports/ (empty id)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
units = st.sampled_from(["173", "05908", "CP-20-01", "19", "", "x" * 40, "../etc", "173 "])
keys = st.sampled_from(
    [
        "cases_new",
        "tests_pcr",
        "tests_pcr_positive",
        "vaccine_dose1.age_18_49",
        "vaccine_dose1",
        "people_screened",
        "nope",
        "Cases",
        "a.b.c",
        "",
    ]
)
counts = st.integers(-5, 2**33) | st.sampled_from(["3", 1.5, None, True, [1]])
near_valid = st.fixed_dictionaries(
    {
        "dataset": st.sampled_from(["district-daily", "checkpoint-daily", "x", 7]),
        "unit_id": units,
        "report_date": st.sampled_from(["2021-07-27", "2021-07-20", "2030-01-01", "27/07/2021", 5]),
        "values": st.dictionaries(keys, counts, max_size=5) | json_values,
    },
    optional={
        "report_id": st.uuids().map(str) | st.text(max_size=10),
        "note": st.text(max_size=50),
        "reason": st.text(max_size=20),
        "submitted_by": st.text(max_size=5),
        "extra": json_values,
    },
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    # Hundreds of requests per token: the rate limit (tests/producers/http/test_limits.py) is off.
    unlimited = Settings(_env_file=None, max_payload_bytes=4096, rate_limit_per_minute=0)  # type: ignore[call-arg]
    app, *_, tokens = build(Path(tmp_path_factory.mktemp("fuzz")), FakePublisher(), unlimited)
    with TestClient(app) as c:
        yield c, tokens


def _check(resp: Any) -> None:
    assert resp.status_code in OK | ERRORS, (resp.status_code, resp.text)
    if resp.status_code in ERRORS:
        body = resp.json()
        assert body["message_vi"].strip() and body["message_en"].strip(), body
        if resp.status_code in (400, 413, 422):
            assert body["reasons"], body
            for r in body["reasons"]:
                assert r["message_vi"].strip() and r["message_en"].strip(), r


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=near_valid | json_values, token=st.sampled_from(["173", "19", "CP-20-01", None]))
def test_post_report_never_500(
    client: tuple[TestClient, dict[str, str]], body: Any, token: str | None
) -> None:
    c, tokens = client
    headers = {"Authorization": f"Bearer {tokens[token]}"} if token else {}
    _check(c.post("/api/v1/reports", json=body, headers=headers))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_post_raw_bytes_and_csv_never_500(
    client: tuple[TestClient, dict[str, str]], raw: bytes
) -> None:
    c, tokens = client
    headers = {"Authorization": f"Bearer {tokens['173']}"}
    _check(c.post("/api/v1/reports", content=raw, headers=headers))
    csv = b"dataset,unit_id,report_date,cases_new\n" + raw
    _check(c.post("/api/v1/reports:csv", content=csv, headers=headers))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ident=st.text(max_size=40), days=st.integers(-3, 200) | st.text(max_size=4))
def test_get_endpoints_never_500(
    client: tuple[TestClient, dict[str, str]], ident: str, days: Any
) -> None:
    c, tokens = client
    headers = {"Authorization": f"Bearer {tokens['19']}"}
    from urllib.parse import quote

    part = quote(ident, safe="")
    for url in (
        f"/api/v1/reports/{part}",
        f"/api/v1/units/{part}/history?days={quote(str(days))}",
        f"/api/v1/units/{part}/datasets",
    ):
        _check(c.get(url, headers=headers))


def test_openapi_documents_every_endpoint(client: tuple[TestClient, dict[str, str]]) -> None:
    c, _ = client
    paths = c.get("/api/v1/openapi.json").json()["paths"]
    assert {
        "/api/v1/reports",
        "/api/v1/reports:csv",
        "/api/v1/reports/{report_id}",
        "/api/v1/units/{unit_id}/history",
        "/api/v1/units/{unit_id}/datasets",
    } <= set(paths)
    assert "422" in paths["/api/v1/reports"]["post"]["responses"]
