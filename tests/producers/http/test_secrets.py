"""Credentials: tokens are stored hashed and never logged; settings never print secrets."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from contract.settings import Settings
from producers.http.auth import TokenStore
from tests.support.api_app import NOW, Api, report


def test_a_token_is_stored_only_as_its_hash(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.sqlite")
    cred, token = store.create("173", "user-173", NOW)
    store.close()
    secret = token.rsplit("_", 1)[1]
    for path in tmp_path.iterdir():  # the database and its write-ahead log
        assert secret.encode() not in path.read_bytes(), path
    assert TokenStore(tmp_path / "tokens.sqlite").check(token) == cred


def test_tokens_never_reach_the_logs(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    good = api.auth("173")
    bad = {"Authorization": "Bearer bc_deadbeef_not-a-real-token-but-secret"}
    assert api.client.post("/api/v1/reports", json=report(), headers=good).status_code == 201
    assert api.client.post("/api/v1/reports", json=report(), headers=bad).status_code == 401
    api.publisher.down = True  # the queued path logs a warning
    assert api.client.post("/api/v1/reports", json=report(), headers=good).status_code == 202
    logged = "\n".join(r.getMessage() + repr(r.__dict__) for r in caplog.records)
    assert logged, "nothing was logged: the test would prove nothing"
    for header in (good, bad):
        assert header["Authorization"].split(" ", 1)[1] not in logged


def test_settings_never_show_their_secrets() -> None:
    s = Settings(  # type: ignore[call-arg]
        _env_file=None,
        clickhouse_password="ch-pass-123",
        notify_webhook_secret="hook-key-456",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="baocao",
        kafka_sasl_password="kafka-pass-789",
    )
    shown = repr(s) + str(s) + s.model_dump_json()
    for secret in ("ch-pass-123", "hook-key-456", "kafka-pass-789"):
        assert secret not in shown
