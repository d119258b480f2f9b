"""Delivery channels: a signed webhook with retries, e-mail over SMTP, and the log."""

from __future__ import annotations

import hashlib
import hmac
import logging
import smtplib
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from typing import Protocol

from contract.errors import BaocaoError
from contract.events import Alert

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Baocao-Signature"


class DeliveryFailed(BaocaoError):
    """A channel gave up on an alert after its retries."""


class Channel(Protocol):
    name: str

    def deliver(self, alert: Alert) -> None: ...


#: Severities as an alert's reader names them, Vietnamese then English.
SEVERITY_TEXT = {
    "info": ("thông tin", "info"),
    "warning": ("cảnh báo", "warning"),
    "critical": ("khẩn", "critical"),
}
#: Longest part (Vietnamese or English) of an e-mail subject; the body has the whole text.
SUBJECT_PART = 150


def _clip(text: str, limit: int) -> str:
    """``text`` cut at a word before ``limit`` characters, with "…" when cut."""
    text = " ".join(text.split())  # a header holds one line
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(" ,;:") + "…"


def headline(alert: Alert, limit: int | None = None) -> str:
    """The alert in one line, Vietnamese first then English: ``<vi> / <en>``.

    Both messages carry unit names as the registry spells them (diacritics kept);
    ``limit`` clips each part (an e-mail subject), never the Vietnamese alone away.
    """
    vi, en = alert.message_vi, alert.message_en
    if limit is not None:
        vi, en = _clip(vi, limit), _clip(en, limit)
    return f"{vi} / {en}"


def severity_text(severity: str) -> str:
    """``cảnh báo/warning``: the severity in both languages."""
    vi, en = SEVERITY_TEXT.get(severity, (severity, severity))
    return f"{vi}/{en}"


def signature(secret: bytes, body: bytes) -> str:
    """The header value a receiver recomputes to trust a webhook call."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class WebhookChannel:
    """POST the alert as JSON; retry with doubling backoff; raise when it keeps failing.

    The body is the alert event itself (``contract.events.Alert``, UTF-8, not escaped):
    ``message_vi`` comes before ``message_en``, both with the units' names in full.
    """

    name = "webhook"

    def __init__(
        self, url: str, secret: bytes, retries: int = 5, backoff: float = 0.5, timeout: float = 5
    ) -> None:
        self.url, self.secret = url, secret
        self.retries, self.backoff, self.timeout = retries, backoff, timeout

    def deliver(self, alert: Alert) -> None:
        # receivers drop repeats by the alert's id
        self.post(alert.to_json(), {"X-Baocao-Alert-Id": alert.alert_id}, alert.alert_id)

    def post(self, body: bytes, headers: dict[str, str], what: str) -> None:
        """POST signed JSON ``body`` (an alert, or a brief's notice) with the retries."""
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(self.secret, body),
            **headers,
        }
        delay, last = self.backoff, ""
        for attempt in range(self.retries + 1):
            try:
                req = urllib.request.Request(self.url, body, headers, method="POST")
                with urllib.request.urlopen(req, timeout=self.timeout):
                    return
            except (urllib.error.URLError, OSError) as exc:
                last = str(exc)
                log.info("webhook attempt %d for %s failed: %s", attempt + 1, what, exc)
            if attempt < self.retries:
                time.sleep(delay)
                delay = min(delay * 2, 60.0)
        raise DeliveryFailed(f"webhook {self.url}: {last}")


class EmailChannel:
    """Send the alert as a plain-text e-mail, Vietnamese first."""

    name = "email"

    def __init__(self, host: str, port: int, sender: str, to: list[str]) -> None:
        self.host, self.port, self.sender, self.to = host, port, sender, to

    def deliver(self, alert: Alert) -> None:
        msg = EmailMessage()
        msg["Subject"] = f"[baocao {severity_text(alert.severity)}] " + headline(
            alert, SUBJECT_PART
        )
        msg["From"], msg["To"] = self.sender, ", ".join(self.to)
        msg["X-Baocao-Alert-Id"] = alert.alert_id
        msg.set_content(f"{alert.message_vi}\n\n{alert.message_en}\n\n{alert.alert_id}\n")
        self.send(msg)

    def send(self, msg: EmailMessage) -> None:
        """Send a message (an alert, or a brief with attachments) to the server."""
        try:
            with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
                smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"smtp {self.host}:{self.port}: {exc}") from exc


class LogChannel:
    """Write the alert to the log (always available, never fails)."""

    name = "log"

    def deliver(self, alert: Alert) -> None:
        log.warning(
            "%s: %s (%s)",
            severity_text(alert.severity),
            headline(alert),
            alert.alert_id,
            extra={
                "alert_id": alert.alert_id,
                "kind": alert.kind,
                "unit_id": alert.unit_id,
                "dataset": alert.dataset,
                "report_date": alert.report_date,
            },
        )
