"""Limits a submitter can hit: requests per token, reports and bytes per CSV upload."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from contract.settings import Settings
from producers.http.limits import RateLimiter
from tests.support.api_app import Api, FakePublisher, build, report


def test_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(3, now=lambda: now[0])
    assert [limiter.take("a") for _ in range(3)] == [None, None, None]
    wait = limiter.take("a")
    assert wait is not None and 19 < wait <= 20  # one request every 20 s
    assert limiter.take("b") is None  # per token
    now[0] = 20.0
    assert limiter.take("a") is None and limiter.take("a") is not None
    assert RateLimiter(0).take("a") is None  # 0 turns limiting off


def test_a_token_over_its_rate_gets_429_with_retry_after_and_nothing_is_lost(
    tmp_path: Path,
) -> None:
    settings = Settings(_env_file=None, max_payload_bytes=4096, rate_limit_per_minute=2)  # type: ignore[call-arg]
    publisher = FakePublisher()
    app, *_, tokens = build(tmp_path, publisher, settings)
    with TestClient(app) as client:
        auth = {"Authorization": f"Bearer {tokens['173']}"}
        codes = [
            client.post("/api/v1/reports", json=report(), headers=auth).status_code
            for _ in range(3)
        ]
        assert codes == [201, 201, 429]
        refused = client.post("/api/v1/reports", json=report(), headers=auth)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        body = refused.json()
        assert "phút" in body["message_vi"] and "a minute" in body["message_en"]
        assert len(publisher.sent) == 2  # the accepted two, and only those
        other = {"Authorization": f"Bearer {tokens['19']}"}
        assert client.get("/api/v1/me", headers=other).status_code == 200


def csv_rows(n: int) -> bytes:
    head = "dataset,unit_id,report_date,cases_new\n"
    return (head + "district-daily,173,2021-07-27,1\n" * n).encode()


def test_too_many_reports_in_one_csv_is_413_and_sends_nothing(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, max_payload_bytes=4096, max_csv_reports=5)  # type: ignore[call-arg]
    publisher = FakePublisher()
    app, *_, tokens = build(tmp_path, publisher, settings)
    with TestClient(app) as client:
        auth = {"Authorization": f"Bearer {tokens['173']}"}
        resp = client.post("/api/v1/reports:csv", content=csv_rows(6), headers=auth)
        assert resp.status_code == 413, resp.text
        assert resp.json()["error"] == "too_many_reports"
        assert "6" in resp.json()["message_en"] and "chia nhỏ" in resp.json()["message_vi"]
        assert publisher.sent == []


def test_csv_has_its_own_byte_limit_above_a_single_report(api: Api) -> None:
    # 4 KiB is the single-report limit here; a CSV may be larger, up to max_csv_bytes.
    big = csv_rows(150)
    assert len(big) > 4096
    resp = api.client.post("/api/v1/reports:csv", content=big, headers=api.auth("173"))
    assert resp.status_code != 413, resp.text
    huge = b"x" * (Settings(_env_file=None).max_csv_bytes + 1)  # type: ignore[call-arg]
    resp = api.client.post("/api/v1/reports:csv", content=huge, headers=api.auth("173"))
    assert resp.status_code == 413 and resp.json()["error"] == "payload_too_large"
