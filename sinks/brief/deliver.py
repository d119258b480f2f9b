"""Send a new version of a brief to its area's recipients through the notifier's channels.

E-mail carries the PDF and the DOCX (offices edit and sign the DOCX); the webhook carries
a signed JSON notice with links to the HTML page and the files. Recipients are set per
area in ``brief_recipients``. Each version goes out once: what was sent is appended to
``<brief_dir>/delivered.jsonl``, read back on start, so a restart sends nothing twice.
A channel that fails is logged and its version written to the notifier's dead letters
for an operator; it is not retried forever.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from contract.registry import Registry
from contract.settings import BriefRecipients, Settings
from sinks.brief.archive import NATIONAL, Version
from sinks.brief.render import MEDIA_TYPES, Format
from sinks.notify.channels import DeliveryFailed, EmailChannel, WebhookChannel

log = logging.getLogger(__name__)

#: The bytes of one format of a version: from the archive, or from the warehouse service.
Fetch = Callable[[Version, str], bytes]
#: Area names: "Tỉnh Thái Nguyên" is "tỉnh Thái Nguyên" inside a sentence, "Thái Nguyên
#: province" in English.
KINDS = {"Tỉnh ": "province", "Thành phố ": "city"}


def area_names(registry: Registry, area: str) -> tuple[str, str]:
    """The area as a Vietnamese sentence names it, and in English."""
    if area == NATIONAL:
        return "toàn quốc", "nationwide"
    unit = registry.get(area)
    name = unit.name if unit else area
    for prefix, kind in KINDS.items():
        if name.startswith(prefix):
            return name[0].lower() + name[1:], f"{name.removeprefix(prefix)} {kind}"
    return name, name


def subject(version: Version, registry: Registry) -> str:
    """'Báo cáo nhanh COVID-19 tỉnh Thái Nguyên ngày 27/07/2021 (bản 2) / COVID-19 …'."""
    vi, en = area_names(registry, version.area)
    day, n = version.report_date.strftime("%d/%m/%Y"), version.version
    return (
        f"Báo cáo nhanh COVID-19 {vi} ngày {day} (bản {n}) / "
        f"COVID-19 daily brief, {en}, {day} (version {n})"
    )


class Deliverer:
    """Deliver each version once to the e-mail addresses and webhook of its area."""

    def __init__(self, settings: Settings, registry: Registry, fetch: Fetch) -> None:
        self.settings, self.registry, self.fetch = settings, registry, fetch
        self.base_url = (
            settings.brief_base_url or f"http://{settings.http_host}:{settings.http_port}"
        ).rstrip("/")
        self.ledger = settings.brief_dir / "delivered.jsonl"
        self.sent: set[str] = set()
        if self.ledger.exists():
            for line in self.ledger.read_text("utf-8").splitlines():
                if line.strip():
                    self.sent.add(json.loads(line)["path"])

    def deliver(self, version: Version) -> dict[str, str]:
        """Send ``version`` where its area's recipients want it; say how each channel did."""
        to = self.settings.brief_recipients.get(version.area)
        if to is None or version.path in self.sent:
            return {}
        outcome: dict[str, str] = {}
        if to.email:
            outcome["email"] = self._attempt("email", self._email, version, to)
        if to.webhook:
            outcome["webhook"] = self._attempt("webhook", self._webhook, version, to)
        self.sent.add(version.path)
        self.ledger.parent.mkdir(parents=True, exist_ok=True)
        record = {"path": version.path, "at": datetime.now(UTC).isoformat(), **outcome}
        with self.ledger.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        return outcome

    def _attempt(
        self,
        channel: str,
        send: Callable[[Version, BriefRecipients], None],
        version: Version,
        to: BriefRecipients,
    ) -> str:
        try:
            send(version, to)
        except (DeliveryFailed, OSError) as exc:  # OSError: the files could not be fetched
            self._dead_letter(channel, version, str(exc))
            return f"failed: {exc}"
        return "sent"

    def _email(self, version: Version, to: BriefRecipients) -> None:
        s = self.settings
        if not s.notify_smtp_host:
            raise DeliveryFailed("no SMTP server (BAOCAO_NOTIFY_SMTP_HOST) / chưa có máy chủ SMTP")
        msg = EmailMessage()
        msg["Subject"] = subject(version, self.registry)
        msg["From"], msg["To"] = s.notify_smtp_from, ", ".join(to.email)
        msg["X-Baocao-Brief"] = version.path  # receivers drop repeats by it
        link = self.base_url + version.url("html")
        units = f"{version.units_reported}/{version.units_expected}"
        msg.set_content(
            f"Gửi kèm báo cáo nhanh (bản {version.version}) dạng PDF và DOCX.\n"
            f"Số liệu tính đến {_local(version.cutoff, s)}; đã nhận {units} báo cáo của đơn vị.\n"
            f"Xem trên web: {link}\n\n"
            f"Attached: the daily brief (version {version.version}), as PDF and DOCX.\n"
            f"Figures as of {_local(version.cutoff, s)}; {units} unit reports received.\n"
            f"On the web: {link}\n"
        )
        attach: tuple[Format, ...] = ("pdf", "docx")
        for fmt in attach:
            if fmt in version.formats:
                main, sub = MEDIA_TYPES[fmt].split(";")[0].split("/")
                msg.add_attachment(
                    self.fetch(version, fmt),
                    maintype=main,
                    subtype=sub,
                    filename=version.download_name(fmt),
                )
        EmailChannel(s.notify_smtp_host, s.notify_smtp_port, s.notify_smtp_from, to.email).send(msg)

    def _webhook(self, version: Version, to: BriefRecipients) -> None:
        s = self.settings
        vi, en = area_names(self.registry, version.area)
        notice: dict[str, Any] = {
            "kind": "brief",
            "subject": subject(version, self.registry),
            "area": version.area,
            "area_name_vi": vi,
            "area_name_en": en,
            **{k: v for k, v in version.to_json().items() if k != "source_mark"},
            "url": self.base_url + version.url("html"),
            "files": {f: self.base_url + version.url(f) for f in version.formats},
        }
        body = json.dumps(notice, ensure_ascii=False).encode()
        channel = WebhookChannel(
            to.webhook,
            s.notify_webhook_secret.get_secret_value().encode(),
            s.notify_retries,
            s.notify_backoff_seconds,
        )
        channel.post(body, {"X-Baocao-Brief": version.path}, version.path)

    def _dead_letter(self, channel: str, version: Version, error: str) -> None:
        log.error("brief %s not delivered by %s: %s", version.path, channel, error)
        path: Path = self.settings.notify_dead_letter_path
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "channel": channel,
            "error": error,
            "failed_at": datetime.now(UTC).isoformat(),
            "brief": version.to_json(),
        }
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def _local(at: datetime, settings: Settings) -> str:
    return at.astimezone(settings.tz).strftime("%H:%M %d/%m/%Y")
