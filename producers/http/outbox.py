"""A durable outbox in SQLite: every submission is written here before it is sent.

The row is the submission's receipt (idempotency and conflicts are answered from it) and
its delivery state: ``sending`` while a request thread publishes it, ``queued`` when the
broker was unreachable, ``sent`` once the broker acknowledged it (acks=all). Writing
first and sending second means a crash between the two re-sends the report after a
restart; the stream drops the duplicate by report_id, so nothing is lost or counted twice.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kafka.errors import KafkaError

from contract.events import ReportSubmitted
from producers.errors import PublishError
from producers.http.models import Publisher
from producers.kafka import Receipt

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    report_id   TEXT PRIMARY KEY,
    ledger_key  TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    payload     TEXT NOT NULL,
    warnings    TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('sending', 'queued', 'sent')),
    partition   INTEGER,
    "offset"    INTEGER,
    created_at  TEXT NOT NULL,
    sent_at     TEXT
);
CREATE INDEX IF NOT EXISTS submissions_state ON submissions (state, created_at);
CREATE INDEX IF NOT EXISTS submissions_ledger ON submissions (ledger_key);
"""
PUBLISH_ERRORS = (PublishError, KafkaError, OSError)


@dataclass(frozen=True)
class Stored:
    """A submission as the outbox holds it."""

    report: ReportSubmitted
    fingerprint: str
    warnings: list[dict[str, object]]
    state: str
    partition: int | None
    offset: int | None


class Outbox:
    """Keep submissions durable until the broker has them."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # an acknowledged row survives power loss
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()
        # A 'sending' row left by a crash was never confirmed: deliver it again.
        with self._lock:
            self._db.execute("UPDATE submissions SET state = 'queued' WHERE state = 'sending'")

    def get(self, report_id: str) -> Stored | None:
        with self._lock:
            row = self._db.execute(
                'SELECT payload, fingerprint, warnings, state, partition, "offset" '
                "FROM submissions WHERE report_id = ?",
                (report_id,),
            ).fetchone()
        if row is None:
            return None
        return Stored(
            ReportSubmitted.model_validate_json(row[0]), row[1], json.loads(row[2]), *row[3:]
        )

    def add(
        self, report: ReportSubmitted, fingerprint: str, warnings: list[dict[str, object]]
    ) -> bool:
        """Record a new submission as 'sending'; False if its report_id is already here."""
        try:
            with self._lock:
                self._db.execute(
                    "INSERT INTO submissions (report_id, ledger_key, fingerprint, payload, "
                    "warnings, state, created_at) VALUES (?, ?, ?, ?, ?, 'sending', ?)",
                    (
                        str(report.report_id),
                        report.ledger_key,
                        fingerprint,
                        report.to_json().decode(),
                        json.dumps(warnings, ensure_ascii=False),
                        report.submitted_at.isoformat(),
                    ),
                )
        except sqlite3.IntegrityError:
            return False
        return True

    def has_other(self, ledger_key: str, report_id: str) -> bool:
        """Whether another submission exists for the same unit, dataset and date."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM submissions WHERE ledger_key = ? AND report_id != ? LIMIT 1",
                (ledger_key, report_id),
            ).fetchone()
        return row is not None

    def ledger_keys(self, unit_id: str) -> set[str]:
        """Every unit|dataset|date this outbox holds a submission for."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT ledger_key FROM submissions WHERE ledger_key LIKE ? ESCAPE '\\'",
                (unit_id.replace("_", "\\_").replace("%", "\\%") + "|%",),
            ).fetchall()
        return {r[0] for r in rows}

    def mark_sent(self, receipt: Receipt, at: datetime) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE submissions SET state = 'sent', partition = ?, \"offset\" = ?, "
                "sent_at = ? WHERE report_id = ?",
                (receipt.partition, receipt.offset, at.isoformat(), receipt.report_id),
            )

    def mark_queued(self, report_ids: list[str]) -> None:
        with self._lock:
            self._db.executemany(
                "UPDATE submissions SET state = 'queued' WHERE report_id = ? AND state != 'sent'",
                [(r,) for r in report_ids],
            )

    def queued(self, limit: int = 500) -> list[ReportSubmitted]:
        """The oldest undelivered submissions, in arrival order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT payload FROM submissions WHERE state = 'queued' "
                "ORDER BY created_at, rowid LIMIT ?",
                (limit,),
            ).fetchall()
        return [ReportSubmitted.model_validate_json(r[0]) for r in rows]

    def count(self, state: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT count(*) FROM submissions WHERE state = ?", (state,)
            ).fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


class Courier:
    """Deliver queued submissions in a background thread whenever the broker answers."""

    def __init__(
        self,
        outbox: Outbox,
        publisher: Publisher,
        interval_s: float = 2.0,
    ) -> None:
        self.outbox = outbox
        self.publisher = publisher
        self.interval_s = interval_s
        self.delivered = 0
        self._sending = threading.Lock()  # one delivery at a time, or a row goes out twice
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="outbox-courier", daemon=True)
        self._thread.start()

    def kick(self) -> None:
        """Try now instead of at the next interval (a new row was queued)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def deliver_once(self) -> int:
        """Send one batch of queued submissions; return how many the broker confirmed."""
        with self._sending:
            return self._deliver_batch()

    def _deliver_batch(self) -> int:
        batch = self.outbox.queued()
        if not batch:
            return 0
        try:
            receipts = self.publisher.send(batch)
        except PUBLISH_ERRORS as exc:
            log.info("outbox: broker still unreachable (%d queued): %s", len(batch), exc)
            return 0
        for receipt in receipts:
            self.outbox.mark_sent(receipt, datetime.now().astimezone())
        self.delivered += len(receipts)
        log.info("outbox: delivered %d queued report(s)", len(receipts))
        return len(receipts)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                while self.deliver_once() >= 500:  # a full batch: more may be waiting
                    pass
            except Exception:  # the courier must outlive any surprise; the row stays queued
                log.exception("outbox: delivery failed; will retry")
