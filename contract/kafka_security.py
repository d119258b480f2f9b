"""Kafka connection security (TLS, SASL): check the settings and hand them to each client.

Every Kafka client of the pipeline gets its security options from here, so producers,
the Faust worker, the sink, the notifier and the operator commands cannot disagree.
The embedded broker speaks PLAINTEXT only; the other protocols are for production.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # settings.py imports this module
    from contract.settings import Settings

Protocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
Mechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


def uses_sasl(settings: Settings) -> bool:
    return settings.kafka_security_protocol.startswith("SASL_")


def uses_tls(settings: Settings) -> bool:
    return settings.kafka_security_protocol in ("SSL", "SASL_SSL")


def problems(settings: Settings) -> list[str]:
    """What is wrong with the Kafka security settings, one bilingual sentence each."""
    out: list[str] = []
    protocol = settings.kafka_security_protocol
    if uses_sasl(settings):
        if not settings.kafka_sasl_username:
            out.append(
                f"BAOCAO_KAFKA_SASL_USERNAME is required with {protocol} / "
                f"cần BAOCAO_KAFKA_SASL_USERNAME khi dùng {protocol}"
            )
        if not settings.kafka_sasl_password.get_secret_value():
            out.append(
                f"BAOCAO_KAFKA_SASL_PASSWORD (or _FILE) is required with {protocol} / "
                f"cần BAOCAO_KAFKA_SASL_PASSWORD (hoặc _FILE) khi dùng {protocol}"
            )
    elif settings.kafka_sasl_username or settings.kafka_sasl_password.get_secret_value():
        # Credentials that would silently not be sent are a misconfiguration.
        out.append(
            f"SASL credentials are set but BAOCAO_KAFKA_SECURITY_PROTOCOL={protocol}; use "
            "SASL_SSL or SASL_PLAINTEXT / đã đặt tài khoản SASL nhưng giao thức không phải SASL"
        )
    files = {
        "BAOCAO_KAFKA_SSL_CAFILE": settings.kafka_ssl_cafile,
        "BAOCAO_KAFKA_SSL_CERTFILE": settings.kafka_ssl_certfile,
        "BAOCAO_KAFKA_SSL_KEYFILE": settings.kafka_ssl_keyfile,
    }
    given = {name: path for name, path in files.items() if path is not None}
    if given and not uses_tls(settings):
        out.append(
            f"{', '.join(given)} set but BAOCAO_KAFKA_SECURITY_PROTOCOL={protocol}; use SSL or "
            "SASL_SSL / đã đặt tệp TLS nhưng giao thức không dùng TLS"
        )
    for name, path in given.items():
        if not path.is_file():
            out.append(f"{name}: no such file {path} / không có tệp {path}")
    if settings.kafka_ssl_keyfile is not None and settings.kafka_ssl_certfile is None:
        out.append(
            "BAOCAO_KAFKA_SSL_KEYFILE needs BAOCAO_KAFKA_SSL_CERTFILE / "
            "có khóa riêng thì cần cả chứng chỉ"
        )
    return out


def client_kwargs(settings: Settings) -> dict[str, Any]:
    """Security kwargs for kafka-python's KafkaProducer, KafkaConsumer and KafkaAdminClient."""
    out: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
    if uses_sasl(settings):
        out["sasl_mechanism"] = settings.kafka_sasl_mechanism
        # kafka-python takes these two names for SCRAM as well as for PLAIN.
        out["sasl_plain_username"] = settings.kafka_sasl_username
        out["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    if uses_tls(settings):
        for key in ("cafile", "certfile", "keyfile"):
            path = getattr(settings, f"kafka_ssl_{key}")
            if path is not None:
                out[f"ssl_{key}"] = str(path)
    return out


def ssl_context(settings: Settings) -> ssl.SSLContext:
    """A client TLS context that verifies the broker (and presents our certificate, if any)."""
    cafile = settings.kafka_ssl_cafile
    context = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH, cafile=str(cafile) if cafile else None
    )
    if settings.kafka_ssl_certfile is not None:
        keyfile = settings.kafka_ssl_keyfile
        context.load_cert_chain(str(settings.kafka_ssl_certfile), str(keyfile) if keyfile else None)
    return context


def faust_kwargs(settings: Settings) -> dict[str, Any]:
    """Faust app settings: ``broker_credentials`` for TLS and SASL (the URL stays kafka://)."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return {}
    import faust  # only the worker needs it; producers and sinks import this module too

    context = ssl_context(settings) if uses_tls(settings) else None
    if not uses_sasl(settings):
        return {"broker_credentials": faust.SSLCredentials(context)}
    return {
        "broker_credentials": faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password.get_secret_value(),
            mechanism=settings.kafka_sasl_mechanism,
            ssl_context=context,
        )
    }
