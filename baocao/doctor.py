"""``baocao doctor``: look at a running stack and say, in plain words, what is wrong.

Each check gives OK, WARN or FAIL with a sentence in Vietnamese and English and, when
something is wrong, what to do. Whether a worker, the sink or the notifier runs is read
from the broker (members of their consumer groups), so it works for any deployment;
the warehouse service is asked over HTTP; optional signals (the worker's web port, the
notifier's heartbeat file) are checked when they are configured.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal

from baocao.status import StatusReport, admin_client, broker_status
from contract import heartbeat, topics
from contract.settings import Settings

Level = Literal["OK", "WARN", "FAIL"]

#: A group this far behind is worth a look, not an alarm.
LAG_WARN = 1_000
#: Deadlines are decided by server clocks: hosts further apart than this disagree visibly.
SKEW_WARN_SECONDS = 5.0


@dataclass(frozen=True)
class Check:
    """One finding: what was looked at, how it is, and what to do about it."""

    name: str
    level: Level
    vi: str
    en: str
    fix_vi: str = ""
    fix_en: str = ""


#: Consumer group -> (who it is, level when absent, how to start it).
GROUPS: dict[str, tuple[str, Level, str]] = {
    topics.STREAMS_APP_ID: ("worker", "FAIL", "baocao worker"),
    topics.SINK_GROUP: ("sink", "FAIL", "baocao warehouse"),
    topics.NOTIFY_GROUP: ("notifier", "WARN", "baocao notify"),
}


def settings_check(s: Settings) -> Check:
    kafka = s.kafka_security_protocol
    vi = f"hồ sơ {s.profile}, Kafka {kafka}, kho dữ liệu {s.warehouse}"
    en = f"profile {s.profile}, Kafka {kafka}, warehouse {s.warehouse}"
    if s.profile == "production" and kafka == "PLAINTEXT":
        return Check(
            "settings",
            "WARN",
            f"{vi}: kết nối Kafka không mã hóa, không xác thực",
            f"{en}: Kafka traffic is neither encrypted nor authenticated",
            "đặt BAOCAO_KAFKA_SECURITY_PROTOCOL=SASL_SSL (xem docs/security.md)",
            "set BAOCAO_KAFKA_SECURITY_PROTOCOL=SASL_SSL (see docs/security.md)",
        )
    return Check("settings", "OK", vi, en)


def broker_checks(s: Settings) -> list[Check]:
    """Broker reachable, topics declared with the configured partitions, groups and lag."""
    try:
        admin = admin_client(s)
    except Exception as exc:  # kafka-python raises several unrelated types here
        return [
            Check(
                "broker",
                "FAIL",
                f"không kết nối được máy chủ Kafka {s.broker}: {exc}",
                f"cannot reach the Kafka broker at {s.broker}: {exc}",
                "khởi động broker (make up) hoặc sửa BAOCAO_BROKER và cấu hình bảo mật Kafka",
                "start the broker (make up) or fix BAOCAO_BROKER and the Kafka security settings",
            )
        ]
    try:
        out = [Check("broker", "OK", f"Kafka {s.broker} trả lời", f"Kafka {s.broker} answers")]
        out.append(_topics_check(s, admin))
        report = StatusReport(broker=s.broker, broker_ok=False)
        broker_status(s, report)
        lags: dict[str, int] = {}
        for t in report.lags:
            lags[t.group] = lags.get(t.group, 0) + t.lag
        groups = admin.describe_groups(list(GROUPS))
        out += [_group_check(g, groups.get(g, {}), lags.get(g, 0)) for g in GROUPS]
        return out
    finally:
        admin.close()


def _topics_check(s: Settings, admin: Any) -> Check:
    existing = set(admin.list_topics())
    missing = [t for t in topics.ALL if t not in existing]
    if missing:
        names = ", ".join(missing)
        return Check(
            "topics",
            "FAIL",
            f"thiếu topic: {names}",
            f"missing topics: {names}",
            "chạy `baocao create-topics`",
            "run `baocao create-topics`",
        )
    wrong = [
        f"{d['name']}={len(d['partitions'])}"
        for d in admin.describe_topics(list(topics.ALL))
        if len(d["partitions"]) != s.partitions
    ]
    if wrong:
        names = ", ".join(wrong)
        return Check(
            "topics",
            "FAIL",
            f"số phân vùng khác BAOCAO_PARTITIONS={s.partitions}: {names}",
            f"partition counts differ from BAOCAO_PARTITIONS={s.partitions}: {names}",
            "đặt BAOCAO_PARTITIONS đúng với số phân vùng của topic",
            "set BAOCAO_PARTITIONS to the topics' partition count (units must stay co-partitioned)",
        )
    n = s.partitions
    return Check(
        "topics", "OK", f"đủ {len(topics.ALL)} topic, {n} phân vùng", f"all topics, {n} partitions"
    )


def _group_check(group: str, desc: dict[str, Any], lag: int) -> Check:
    who, absent, command = GROUPS[group]
    members = len(desc.get("members") or [])
    state = desc.get("group_state", "?")
    if members == 0:
        return Check(
            who,
            absent,
            f"không có {who} nào đang chạy (nhóm {group} không có thành viên), tồn {lag} tin",
            f"no {who} is running (consumer group {group} has no members), lag {lag}",
            f"chạy `{command}` (make up chạy sẵn)",
            f"start `{command}` (make up starts one)",
        )
    seen_vi = f"{members} thành viên, trạng thái {state}, tồn {lag} tin"
    seen_en = f"{members} member(s), state {state}, lag {lag}"
    if lag > LAG_WARN:
        return Check(
            who,
            "WARN",
            f"{seen_vi}: đang chậm",
            f"{seen_en}: falling behind",
            f"xem log của {who}; thêm worker (tối đa BAOCAO_PARTITIONS)",
            f"look at the {who}'s log; add workers (up to BAOCAO_PARTITIONS)",
        )
    return Check(who, "OK", seen_vi, seen_en)


def _get(url: str, timeout: float) -> tuple[int, dict[str, Any], str]:
    """Status, JSON body (or {}) and Date header of a GET; raises OSError when unreachable."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            code, body, date = resp.status, resp.read(), resp.headers.get("Date", "")
    except urllib.error.HTTPError as exc:  # 503 from /readyz still has a body
        code, body, date = exc.code, exc.read(), exc.headers.get("Date", "")
    try:
        data = json.loads(body)
    except ValueError:
        data = {}
    return code, data if isinstance(data, dict) else {}, date


def service_checks(s: Settings, timeout: float = 5.0) -> list[Check]:
    """The warehouse service: alive, ready (warehouse answers, sink consumes), its clock."""
    base = f"http://{_host(s.http_host)}:{s.http_port}"
    try:
        _, _, date = _get(base + "/healthz", timeout)
    except OSError as exc:
        return [
            Check(
                "warehouse",
                "FAIL",
                f"dịch vụ kho dữ liệu không trả lời tại {base}: {exc}",
                f"the warehouse service does not answer at {base}: {exc}",
                "chạy `baocao warehouse` (make up chạy sẵn); kiểm tra BAOCAO_HTTP_HOST/PORT",
                "start `baocao warehouse` (make up starts it); check BAOCAO_HTTP_HOST/PORT",
            )
        ]
    return [_ready_check(base, timeout), _clock_check(date)]


def _ready_check(base: str, timeout: float) -> Check:
    code, ready, _ = _get(base + "/readyz", timeout)
    if code == 200:
        return Check("warehouse", "OK", f"sẵn sàng tại {base}", f"ready at {base}")
    bad = [c for c in ready.get("checks", {}).values() if not c.get("ok")]
    return Check(
        "warehouse",
        "FAIL",
        "chưa sẵn sàng: " + "; ".join(c.get("message_vi", "?") for c in bad),
        f"not ready (HTTP {code}): " + "; ".join(c.get("message_en", "?") for c in bad),
        "xem log của dịch vụ kho dữ liệu và ClickHouse",
        "look at the warehouse service's log and at ClickHouse",
    )


def _clock_check(date: str) -> Check:
    try:
        skew = (parsedate_to_datetime(date) - datetime.now(UTC)).total_seconds()
    except (TypeError, ValueError):
        return Check("clock", "WARN", "không đọc được giờ máy chủ", "no server time to compare")
    text = f"{skew:+.0f} s"
    if abs(skew) > SKEW_WARN_SECONDS:
        return Check(
            "clock",
            "WARN",
            f"đồng hồ máy này lệch máy chủ {text}: hạn 15:00 bị tính sai",
            f"this host's clock differs from the service's by {text}: deadlines will disagree",
            "đồng bộ giờ bằng NTP (chrony, timedatectl)",
            "synchronise clocks with NTP (chrony, timedatectl)",
        )
    return Check("clock", "OK", f"lệch {text}", f"skew {text}")


def signal_checks(s: Settings, timeout: float = 3.0) -> list[Check]:
    """Optional health signals: the worker's web port and the notifier's heartbeat file."""
    out = []
    if s.worker_web_port:
        url = f"http://{_host(s.worker_web_host)}:{s.worker_web_port}/"
        try:
            _get(url, timeout)
            out.append(Check("worker-web", "OK", f"{url} trả lời", f"{url} answers"))
        except OSError as exc:
            out.append(
                Check(
                    "worker-web",
                    "FAIL",
                    f"worker không trả lời tại {url}: {exc}",
                    f"the worker does not answer at {url}: {exc}",
                    "xem log của worker; khởi động lại `baocao worker`",
                    "look at the worker's log; restart `baocao worker`",
                )
            )
    if s.notify_heartbeat_file is not None:
        out.append(_heartbeat_check(s.notify_heartbeat_file))
    return out


def _heartbeat_check(path: Path) -> Check:
    age = heartbeat.age(path)
    if age is not None and age <= heartbeat.STALE_SECONDS:
        return Check("notifier-beat", "OK", f"nhịp {age:.0f} s trước", f"beat {age:.0f} s ago")
    vi, en = ("không có tệp", "no file") if age is None else (f"{age:.0f} s", f"{age:.0f} s")
    return Check(
        "notifier-beat",
        "WARN",
        f"nhịp tim của notifier quá cũ ({vi}): {path}",
        f"the notifier's heartbeat is stale ({en}): {path}",
        "chạy `baocao notify` trên máy này",
        "start `baocao notify` on this host",
    )


def _host(host: str) -> str:
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host


def run(settings: Settings) -> list[Check]:
    """Every check, in the order an operator would look."""
    return [
        settings_check(settings),
        *broker_checks(settings),
        *service_checks(settings),
        *signal_checks(settings),
    ]


def render(checks: list[Check]) -> str:
    """One line per check; what to do on the next line; a count at the end."""
    lines = []
    for c in checks:
        lines.append(f"{c.level:<4}  {c.name:<13} {c.vi} / {c.en}")
        if c.fix_en:
            lines.append(f"{'':<19} → {c.fix_vi} / {c.fix_en}")
    counts = {level: sum(c.level == level for c in checks) for level in ("FAIL", "WARN", "OK")}
    lines.append(", ".join(f"{n} {level}" for level, n in counts.items()))
    return "\n".join(lines)


def to_json(checks: list[Check]) -> str:
    body = {"ok": exit_code(checks) == 0, "checks": [asdict(c) for c in checks]}
    return json.dumps(body, ensure_ascii=False, indent=1)


def exit_code(checks: list[Check]) -> int:
    return 1 if any(c.level == "FAIL" for c in checks) else 0
