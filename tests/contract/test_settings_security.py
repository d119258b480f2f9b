"""Security settings: Kafka TLS/SASL combinations, secrets from files, the production profile."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path
from typing import Any

import faust
import pytest
from pydantic import ValidationError

from contract import kafka_security
from contract.settings import Settings
from streams.app import faust_settings


def make(**kw: Any) -> Settings:
    return Settings(_env_file=None, **kw)  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A self-signed certificate and its key (it also serves as the CA bundle)."""
    root = tmp_path_factory.mktemp("pki")
    cert, key = root / "client.pem", root / "client.key"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=baocao-test", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return {"cafile": cert, "certfile": cert, "keyfile": key}


def refused(**kw: Any) -> str:
    with pytest.raises(ValidationError) as err:
        make(**kw)
    return str(err.value)


def test_defaults_are_plaintext_dev_and_keep_clients_unchanged() -> None:
    s = make()
    assert (s.profile, s.kafka_security_protocol) == ("dev", "PLAINTEXT")
    assert kafka_security.client_kwargs(s) == {"security_protocol": "PLAINTEXT"}
    assert "broker_credentials" not in faust_settings(s)


@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "SASL_SSL"])
def test_sasl_needs_a_username_and_a_password(protocol: str) -> None:
    message = refused(kafka_security_protocol=protocol, kafka_sasl_username="u")
    assert "BAOCAO_KAFKA_SASL_PASSWORD" in message and "cần" in message
    message = refused(kafka_security_protocol=protocol, kafka_sasl_password="p")
    assert "BAOCAO_KAFKA_SASL_USERNAME" in message


def test_credentials_or_tls_files_without_a_protocol_that_uses_them_are_refused(
    pki: dict[str, Path],
) -> None:
    assert "không phải SASL" in refused(kafka_sasl_username="u", kafka_sasl_password="p")
    assert "không dùng TLS" in refused(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="u",
        kafka_sasl_password="p",
        kafka_ssl_cafile=pki["cafile"],
    )


def test_tls_files_must_exist_and_a_key_needs_its_certificate(
    pki: dict[str, Path], tmp_path: Path
) -> None:
    missing = tmp_path / "nope.pem"
    message = refused(kafka_security_protocol="SSL", kafka_ssl_cafile=missing)
    assert "BAOCAO_KAFKA_SSL_CAFILE" in message and str(missing) in message
    message = refused(kafka_security_protocol="SSL", kafka_ssl_keyfile=pki["keyfile"])
    assert "BAOCAO_KAFKA_SSL_CERTFILE" in message


def test_unknown_protocol_or_mechanism_is_refused() -> None:
    refused(kafka_security_protocol="TLS")
    refused(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="GSSAPI")


def test_sasl_ssl_becomes_kafka_python_kwargs(pki: dict[str, Path]) -> None:
    s = make(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="baocao",
        kafka_sasl_password="s3cret-pw",
        kafka_ssl_cafile=pki["cafile"],
    )
    assert kafka_security.client_kwargs(s) == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "baocao",
        "sasl_plain_password": "s3cret-pw",
        "ssl_cafile": str(pki["cafile"]),
    }


def test_sasl_ssl_becomes_faust_credentials_on_a_kafka_url(pki: dict[str, Path]) -> None:
    s = make(
        broker="k1:9093,k2:9093",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-256",
        kafka_sasl_username="baocao",
        kafka_sasl_password="s3cret-pw",
        kafka_ssl_cafile=pki["cafile"],
    )
    conf = faust_settings(s)
    assert conf["broker"] == "kafka://k1:9093;kafka://k2:9093"
    creds = conf["broker_credentials"]
    assert isinstance(creds, faust.SASLCredentials)
    assert (creds.username, creds.password) == ("baocao", "s3cret-pw")
    assert creds.mechanism.value == "SCRAM-SHA-256"
    assert creds.protocol.value == "SASL_SSL"  # set by Faust because a context was given
    assert creds.ssl_context is not None
    assert creds.ssl_context.verify_mode == ssl.CERT_REQUIRED


def test_sasl_plaintext_has_no_tls_context() -> None:
    s = make(
        kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="u", kafka_sasl_password="p"
    )
    creds = faust_settings(s)["broker_credentials"]
    assert creds.protocol.value == "SASL_PLAINTEXT" and creds.ssl_context is None
    assert "ssl_cafile" not in kafka_security.client_kwargs(s)


def test_mutual_tls_becomes_kafka_python_files_and_a_faust_ssl_context(
    pki: dict[str, Path],
) -> None:
    s = make(
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=pki["cafile"],
        kafka_ssl_certfile=pki["certfile"],
        kafka_ssl_keyfile=pki["keyfile"],
    )
    assert kafka_security.client_kwargs(s) == {
        "security_protocol": "SSL",
        **{f"ssl_{k}": str(v) for k, v in pki.items()},
    }
    creds = faust_settings(s)["broker_credentials"]
    assert isinstance(creds, faust.SSLCredentials)
    assert creds.context.verify_mode == ssl.CERT_REQUIRED and creds.context.check_hostname


# ---------------------------------------------------------------- production profile


def test_production_refuses_an_empty_or_default_clickhouse_password() -> None:
    # .env.example's placeholder included: a copied file left unedited must not start.
    for password in ("", "default", "changeme", " ClickHouse ", "change-me-clickhouse"):
        message = refused(profile="production", warehouse="http", clickhouse_password=password)
        assert "BAOCAO_CLICKHOUSE_PASSWORD" in message
        assert "production" in message and "mật khẩu" in message
    assert make(profile="dev", warehouse="http").clickhouse_password.get_secret_value() == ""
    assert make(profile="production", warehouse="http", clickhouse_password="x9-Long-pw")


def test_production_refuses_default_webhook_and_kafka_secrets() -> None:
    url = "https://hooks.example.vn/baocao"
    assert "BAOCAO_NOTIFY_WEBHOOK_SECRET" in refused(profile="production", notify_webhook_url=url)
    sasl = {"kafka_security_protocol": "SASL_SSL", "kafka_sasl_username": "baocao"}
    assert "BAOCAO_KAFKA_SASL_PASSWORD" in refused(
        profile="production", kafka_sasl_password="password", **sasl
    )
    assert make(profile="dev", kafka_sasl_password="password", **sasl)  # dev allows it
    assert make(profile="production")  # embedded chDB, no webhook, no SASL: nothing to refuse


def test_production_refuses_placeholder_grafana_passwords() -> None:
    # docker-compose.yml gives both to `init`; these are .env.example's placeholders.
    fields = {
        "grafana_admin_password": "BAOCAO_GRAFANA_ADMIN_PASSWORD",
        "grafana_clickhouse_password": "BAOCAO_GRAFANA_CLICKHOUSE_PASSWORD",
    }
    for field, var in fields.items():
        for value in ("change-me-grafana-admin", "change-me-grafana-ro", "admin", " "):
            message = refused(profile="production", **{field: value})
            assert var in message and "mật khẩu" in message and "production" in message
            assert make(profile="dev", **{field: value})  # dev allows it
    real = {"grafana_admin_password": "Xk9-long-admin", "grafana_clickhouse_password": "Ro-7Qx2-pw"}
    assert make(profile="production", **real)
    assert make(profile="production")  # not given to this service: nothing to check


def test_a_refusal_never_prints_the_secrets() -> None:
    message = refused(
        profile="production",
        warehouse="http",
        clickhouse_password="default",
        kafka_security_protocol="SSL",
        kafka_sasl_password="hunter2-secret",
    )
    assert "hunter2-secret" not in message


# ---------------------------------------------------------------- secrets from files


def test_secrets_come_from_files_named_by_FILE_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ch").write_text("from-a-file\n", encoding="utf-8")
    (tmp_path / "kafka").write_text("kafka-pw", encoding="utf-8")
    monkeypatch.setenv("BAOCAO_CLICKHOUSE_PASSWORD_FILE", str(tmp_path / "ch"))
    monkeypatch.setenv("BAOCAO_KAFKA_SASL_PASSWORD_FILE", str(tmp_path / "kafka"))
    monkeypatch.setenv("BAOCAO_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("BAOCAO_KAFKA_SASL_USERNAME", "baocao")
    monkeypatch.setenv("BAOCAO_PROFILE", "production")
    monkeypatch.setenv("BAOCAO_WAREHOUSE", "http")
    s = make()
    assert s.clickhouse_password.get_secret_value() == "from-a-file"  # newline dropped
    assert s.warehouse_client_kwargs()["password"] == "from-a-file"
    assert kafka_security.client_kwargs(s)["sasl_plain_password"] == "kafka-pw"


def test_a_secret_from_both_variable_and_file_or_from_a_missing_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ch").write_text("a", encoding="utf-8")
    monkeypatch.setenv("BAOCAO_CLICKHOUSE_PASSWORD_FILE", str(tmp_path / "ch"))
    monkeypatch.setenv("BAOCAO_CLICKHOUSE_PASSWORD", "b")
    assert "not both" in refused()
    monkeypatch.delenv("BAOCAO_CLICKHOUSE_PASSWORD")
    monkeypatch.setenv("BAOCAO_CLICKHOUSE_PASSWORD_FILE", str(tmp_path / "missing"))
    message = refused()
    assert "BAOCAO_CLICKHOUSE_PASSWORD_FILE" in message and "missing" in message


def test_the_worker_web_server_is_off_by_default_and_never_serves_table_data() -> None:
    assert faust_settings(make())["web_enabled"] is False
    conf = faust_settings(make(worker_web_port=6066, worker_web_host="0.0.0.0"))
    assert conf["web_enabled"] is True
    assert (conf["web_port"], conf["web_bind"]) == (6066, "0.0.0.0")
    assert conf["web_tables_enabled"] is False  # /table/ledger/ would expose the ledger
