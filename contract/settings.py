"""Settings for every stage, from the environment (prefix ``BAOCAO_``) or a ``.env`` file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from contract import kafka_security, secret_settings

#: The stream worker's workarounds for Faust, aiokafka and the broker (streams/compat/,
#: docs/known-issues.md), by the name BAOCAO_COMPAT_OFF turns one off with.
CompatName = Literal[
    "log_repeats",
    "producer_topics",
    "seek_committed",
    "recovery_offsets",
    "recovery_rebalance",
    "offset_order",
    "liveness",
    "stop_deadline",
]


class BriefRecipients(BaseModel):
    """Who receives a province's daily brief: e-mail addresses and a webhook."""

    model_config = ConfigDict(extra="forbid")

    email: list[str] = Field(default_factory=list)
    webhook: str = ""


class Settings(BaseSettings):
    """Where the broker and the warehouse are, and how the pipeline behaves."""

    # hide_input_in_errors: a refused setting must not print the passwords next to it
    model_config = SettingsConfigDict(
        env_prefix="BAOCAO_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    broker: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers, host:port[,...]")
    partitions: int = Field(4, ge=1, le=256, description="partitions per pipeline topic")
    embedded_broker: Literal["tansu", "kafka"] = Field(
        "tansu",
        description="the broker `baocao up` starts: tansu (Python only) or kafka (Java 17, Maven)",
    )
    timezone: str = Field("Asia/Ho_Chi_Minh", description="IANA zone of deadlines and dates")

    warehouse: Literal["chdb", "http"] = Field(
        "chdb", description="chdb: embedded engine on disk; http: a ClickHouse server"
    )
    chdb_path: Path = Field(Path("var/warehouse"), description="chDB data directory")
    clickhouse_url: str = Field(
        "http://127.0.0.1:8123", description="ClickHouse server URL (warehouse=http)"
    )
    clickhouse_user: str = "default"
    clickhouse_password: SecretStr = SecretStr("")
    # A fresh ClickHouse container answers only after its first-boot set-up
    # (warehouse/wait.py); chDB runs in-process and is never waited for.
    warehouse_wait_seconds: float = Field(
        120.0,
        ge=0,
        le=3600,
        description="how long init and the warehouse service retry a ClickHouse server "
        "that does not answer yet (0: one attempt)",
    )
    database: str = Field("baocao", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")

    registry_path: Path | None = Field(None, description="unit registry JSON; default: demo")
    datasets_path: Path | None = Field(None, description="datasets TOML; default: built-in")
    signals_enabled: bool = Field(
        True, description="compute surveillance signals and epidemic levels in the worker"
    )
    signals_path: Path | None = Field(
        None, description="signal rules TOML (docs/signals.md); default: built-in"
    )
    level_profiles_path: Path | None = Field(
        None, description="a province's own epidemic-level profiles TOML (docs/levels.md)"
    )
    level_profile: str | None = Field(
        None, description="assess levels by this profile id; default: the one in force that day"
    )
    level_dataset: str | None = Field(
        None,
        description="the dataset levels are assessed from; default: the only one carrying "
        "every metric the profiles read",
    )
    population_path: Path | None = Field(
        None, description="population CSV (unit_id,population[,age bands]); default: demo estimates"
    )

    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=1, le=65535, description="warehouse service / web UI port")

    data_dir: Path | None = Field(
        None,
        description="API tokens, SMS phone numbers and outbox (SQLite); default: the "
        "warehouse's parent",
    )
    correction_window_days: int = Field(
        7, ge=0, le=366, description="older reports may only be corrected with a province token"
    )

    sms_secret: SecretStr = Field(
        SecretStr(""),
        description="shared secret of the SMS gateway webhook POST /api/v1/sms, sent as the "
        "X-Baocao-Sms-Secret header or ?secret= (docs/sms.md); empty: the webhook is off (404)",
    )
    sms_format_path: Path | None = Field(
        None, description="SMS command words and keys TOML (docs/sms.md); default: built-in"
    )
    sms_wait_seconds: float = Field(
        3.0,
        ge=0,
        le=25,
        description="how long the SMS webhook waits for the stream's decision to put it in "
        "its reply (0: the receipt only; the sender can ask later with TT)",
    )

    max_payload_bytes: int = Field(64 * 1024, ge=1024, description="largest accepted report")
    max_csv_bytes: int = Field(2 * 1024 * 1024, ge=1024, description="largest CSV upload")
    max_csv_reports: int = Field(2000, ge=1, description="most reports in one CSV upload")
    rate_limit_per_minute: int = Field(
        120, ge=0, description="API requests per token per minute (bursts up to this; 0: off)"
    )
    # A decision normally follows in seconds (bench/latency.py); a report still without
    # one this long after its send was probably lost with the broker: send it again.
    outbox_resend_seconds: float = Field(
        120.0,
        gt=0,
        description="an acknowledged report still undecided this long is sent again "
        "(the wait doubles each time, up to an hour)",
    )
    outbox_settle_seconds: float = Field(
        60.0,
        ge=0,
        description="on start, how long the API waits for the stream and the sink to catch "
        "up before it re-sends undecided reports",
    )
    sink_batch_rows: int = Field(10_000, ge=1, description="rows per warehouse insert")
    # The embedded broker answers a fetch only when this runs out, even when data came
    # sooner (Kafka answers at once), so it is added to the sink's and notifier's latency.
    # Not the Faust worker's: shortened there (500 or 100 ms, not Faust's fixed 1.5 s),
    # a worker stopped fetching a partition after rebalances, restart after restart.
    fetch_wait_ms: int = Field(
        100, ge=1, le=1500, description="longest the sink's and notifier's fetches wait for data"
    )
    # With the worker's commits, this bounds submit -> visible (its target: p95 <= 2 s,
    # bench/latency.py, docs/benchmarks.md). A backlog fills batches by rows first.
    sink_flush_seconds: float = Field(0.25, gt=0, description="longest a row waits in a batch")

    clock_file: Path | None = Field(
        None, description="read 'now' from this file (tests, replays); default: system clock"
    )
    watch_interval_seconds: float = Field(
        1.0, gt=0, le=300, description="how often the deadline watch looks at every unit"
    )
    watch_hold_hours: float = Field(
        24.0, gt=0, le=24 * 31, description="how long after its deadline a date is still watched"
    )
    # Decisions are published on commit, so this interval is most of submit -> visible
    # (bench/latency.py; docs/benchmarks.md).
    worker_commit_seconds: float = Field(
        0.5,
        gt=0,
        description="how often the worker commits; its decisions are published on commit",
    )
    # memory: the tables grow with every unit-day and are replayed from the changelogs on
    # each start; rocksdb keeps them on disk with bounded caches (streams/state.py).
    worker_store: Literal["memory", "rocksdb"] = Field(
        "memory", description="where a worker keeps its tables: memory or rocksdb (on disk)"
    )
    worker_state_dir: Path = Field(
        Path("var/worker-state"),
        description="the rocksdb store's directory; one per worker process",
    )
    worker_stall_seconds: float = Field(
        30.0,
        ge=0,
        description="input waiting, no commit this long (or a rebalance twice this long): "
        "the worker restarts itself (0: never)",
    )
    # A stop commits offsets first, and with the broker gone that commit never ends
    # (streams/compat/stop_deadline.py). Below `baocao up`'s 20 s before it kills a child.
    worker_stop_seconds: float = Field(
        15.0,
        ge=0,
        description="longest a worker's stop may take before the process exits anyway "
        "(0: no limit)",
    )
    # The sink commits after it writes; a commit to a broker that died never ends either.
    warehouse_stop_seconds: float = Field(
        15.0,
        ge=0,
        description="longest the warehouse service's stop may take before the process "
        "exits anyway (0: no limit)",
    )
    # For experiments only: which workarounds a worker still needs (bench/workaround_loops.py).
    compat_off: Annotated[list[CompatName], NoDecode] = Field(
        default_factory=list,
        description="comma list of the stream worker's workarounds to turn off "
        "(docs/known-issues.md); empty: all on",
    )

    # ---- security and operations (docs/security.md, docs/operations.md)
    profile: Literal["dev", "production"] = Field(
        "dev", description="production refuses empty or default secrets"
    )
    internal_token: SecretStr = Field(
        SecretStr(""),
        description="bearer token baocao's own services and commands send to the warehouse "
        "service's internal routes from another host (reads everything; docs/operations.md)",
    )
    metrics_token: SecretStr = Field(
        SecretStr(""), description="bearer token for /metrics from another host (empty: loopback)"
    )
    read_open: bool = Field(
        False,
        description="serve the viewer, histories and status to anyone without a token (a demo "
        "on a trusted network); the production profile refuses it",
    )
    session_hours: float = Field(12.0, gt=0, le=24 * 30, description="viewer sign-in lifetime")
    kafka_security_protocol: kafka_security.Protocol = "PLAINTEXT"
    kafka_sasl_mechanism: kafka_security.Mechanism = "PLAIN"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    kafka_ssl_cafile: Path | None = Field(None, description="CA bundle that signed the brokers")
    kafka_ssl_certfile: Path | None = Field(None, description="client certificate (mutual TLS)")
    kafka_ssl_keyfile: Path | None = Field(None, description="client private key (mutual TLS)")
    log_format: Literal["text", "json"] = Field(
        "text", description="json: one JSON object per log line"
    )
    worker_web_port: int = Field(
        0, ge=0, le=65535, description="the Faust worker answers GET / here (0: off)"
    )
    worker_web_host: str = Field("127.0.0.1", description="address the worker's web server binds")
    notify_heartbeat_file: Path | None = Field(
        None, description="the notifier touches this file every few seconds while it runs"
    )
    # baocao never uses these two: docker-compose.yml hands them to `init` so that the
    # production profile refuses the stack's placeholders before Grafana (which waits
    # for init) starts with them. Empty: not given to this service, nothing to check.
    grafana_admin_password: SecretStr = Field(
        SecretStr(""), description="checked only: Grafana's admin password"
    )
    grafana_clickhouse_password: SecretStr = Field(
        SecretStr(""), description="checked only: Grafana's read-only ClickHouse password"
    )

    notify_webhook_url: str = Field("", description="POST every routed alert here (JSON)")
    notify_webhook_secret: SecretStr = Field(
        SecretStr(""), description="HMAC-SHA256 key for the X-Baocao-Signature header"
    )
    notify_smtp_host: str = Field("", description="SMTP server for e-mail alerts")
    notify_smtp_port: int = Field(25, ge=1, le=65535)
    notify_smtp_from: str = "baocao@localhost"
    notify_smtp_to: list[str] = Field(default_factory=list, description="e-mail recipients")
    notify_routes: list[dict[str, Any]] = Field(
        default_factory=lambda: [{"channel": "log"}],
        description="JSON list of {channel, kinds?, min_severity?, provinces?}; first match wins "
        "per channel",
    )
    notify_retries: int = Field(5, ge=0, le=20, description="webhook attempts after the first")
    notify_backoff_seconds: float = Field(0.5, gt=0, description="first retry delay; doubles")
    notify_dead_letter_path: Path = Field(
        Path("var/notify-dead-letters.jsonl"), description="alerts that could not be delivered"
    )
    brief_delay_minutes: int = Field(
        5, ge=0, le=24 * 60, description="the daily brief is made this long after the deadline"
    )
    brief_dir: Path = Field(Path("var/briefs"), description="archive of daily briefs")
    brief_recipients: dict[str, BriefRecipients] = Field(
        default_factory=dict,
        description='JSON {province_id or "national": {"email": [...], "webhook": url}}',
    )
    brief_base_url: str = Field(
        "", description="links to briefs start with this (default: the web UI's address)"
    )
    clickhouse_cluster: str = Field(
        "",
        pattern=r"^([A-Za-z_][A-Za-z0-9_]*)?$",
        description="ClickHouse cluster name (warehouse=http): Replicated + Distributed tables "
        "created ON CLUSTER; empty: one server",
    )

    @field_validator("compat_off", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            secret_settings.from_files(data, secret_settings.secret_fields(cls), os.environ)
        return data

    @model_validator(mode="after")
    def _safe_to_run(self) -> Settings:
        problems = kafka_security.problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        if self.read_open and self.profile == "production":
            raise ValueError(
                "BAOCAO_PROFILE=production refuses BAOCAO_READ_OPEN: internal routes are never "
                "served without a token off this host. Hồ sơ production không cho phép "
                "BAOCAO_READ_OPEN: không phục vụ trang nội bộ khi chưa đăng nhập."
            )
        weak = secret_settings.default_secrets(self) if self.profile == "production" else []
        if weak:
            raise ValueError(secret_settings.refusal(weak))
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def bootstrap_servers(self) -> list[str]:
        return [s.strip() for s in self.broker.split(",") if s.strip()]

    def warehouse_client_kwargs(self) -> dict[str, Any]:
        """Turn the warehouse settings into ``clickhouse_connect.get_client`` kwargs."""
        if self.warehouse == "chdb":
            return {"interface": "chdb", "path": str(self.chdb_path)}
        url = urlsplit(self.clickhouse_url)
        return {
            "interface": url.scheme or "http",
            "host": url.hostname or "127.0.0.1",
            "port": url.port or 8123,
            "username": self.clickhouse_user,
            "password": self.clickhouse_password.get_secret_value(),
        }
