"""Secrets in settings: read from files (docker secrets style), refused when left at defaults.

``BAOCAO_<NAME>_FILE=/run/secrets/x`` gives a secret setting the content of that file
(trailing newlines dropped), so a password never has to sit in the environment, a
compose file or the repository. Setting both ``BAOCAO_<NAME>`` and ``BAOCAO_<NAME>_FILE``
is refused: which one wins would be a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

if TYPE_CHECKING:
    from contract.settings import Settings

#: Values that are as good as no password: defaults, placeholders, the product's name.
WEAK = frozenset({"", "default", "password", "secret", "admin", "clickhouse", "baocao"})
#: Placeholders such as .env.example's ``change-me-clickhouse``.
PLACEHOLDER_PREFIXES = ("change-me", "changeme", "change_me")


def secret_fields(model: type[Any]) -> list[str]:
    return [name for name, f in model.model_fields.items() if f.annotation is SecretStr]


def from_files(data: dict[str, Any], names: list[str], environ: Mapping[str, str]) -> None:
    """Fill ``data`` from ``BAOCAO_<NAME>_FILE`` for each secret name; raise ValueError."""
    for name in names:
        var = f"BAOCAO_{name.upper()}"
        path = environ.get(f"{var}_FILE")
        if not path:
            continue
        given = data.get(name)
        if isinstance(given, SecretStr):
            given = given.get_secret_value()
        if given:
            raise ValueError(f"set {var} or {var}_FILE, not both / chỉ đặt một trong hai")
        try:
            data[name] = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ValueError(
                f"{var}_FILE: cannot read {path} ({exc.strerror}) / không đọc được tệp {path}"
            ) from exc


def default_secrets(settings: Settings) -> list[str]:
    """Secrets the production profile must not run with, named by their variables."""
    weak: list[str] = []

    def check(var: str, secret: SecretStr) -> None:
        value = secret.get_secret_value().strip().lower()
        if value in WEAK or value.startswith(PLACEHOLDER_PREFIXES):
            weak.append(var)

    if settings.warehouse == "http":  # chDB has no password
        check("BAOCAO_CLICKHOUSE_PASSWORD", settings.clickhouse_password)
    if settings.notify_webhook_url:  # an unsigned webhook can be forged by anyone
        check("BAOCAO_NOTIFY_WEBHOOK_SECRET", settings.notify_webhook_secret)
    if settings.kafka_security_protocol.startswith("SASL_"):
        check("BAOCAO_KAFKA_SASL_PASSWORD", settings.kafka_sasl_password)
    for var, secret in (
        ("BAOCAO_INTERNAL_TOKEN", settings.internal_token),
        ("BAOCAO_METRICS_TOKEN", settings.metrics_token),
        ("BAOCAO_SMS_SECRET", settings.sms_secret),
        ("BAOCAO_GRAFANA_ADMIN_PASSWORD", settings.grafana_admin_password),
        ("BAOCAO_GRAFANA_CLICKHOUSE_PASSWORD", settings.grafana_clickhouse_password),
    ):
        if secret.get_secret_value():  # given only where they are checked (compose: init)
            check(var, secret)
    return weak


def refusal(weak: list[str]) -> str:
    names = ", ".join(weak)
    return (
        f"BAOCAO_PROFILE=production refuses empty or default secrets: {names}; set a real value "
        f"(or {weak[0]}_FILE). Hồ sơ production không chạy với mật khẩu trống hoặc mặc định: "
        f"{names}; hãy đặt giá trị thật (hoặc {weak[0]}_FILE)."
    )
