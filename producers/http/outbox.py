"""A durable outbox in SQLite: every submission is written here before it is sent.

The row is the submission's receipt (idempotency and conflicts are answered from it),
its delivery state and what the stream decided: ``sending`` while it is being
published, ``queued`` when the broker was unreachable (or the report is to be sent
again), ``sent`` once the broker acknowledged it (acks=all); ``decided_at`` once the
warehouse holds the stream's decision. Writing first and sending second means a crash
between the two re-sends the report after a restart; the stream drops the duplicate
by report_id, so nothing is lost or counted twice. A sent report without a decision is
sent again (``producers/http/redeliver.py``): a broker that forgot it loses nothing.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kafka.errors import KafkaError

from contract.events import ReportSubmitted
from producers.errors import PublishError
from producers.http.models import Decision
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
#: Columns added since the first outbox files: an older file gets them on open.
ADDED = {
    "attempts": "INTEGER NOT NULL DEFAULT 0",  # times the broker acknowledged it
    "resend_at": "REAL",  # unix time after which an undecided row is sent again
    "decided_at": "TEXT",
    "decision": "TEXT",  # Decision as JSON
}
UNDECIDED_INDEX = (
    "CREATE INDEX IF NOT EXISTS submissions_undecided ON submissions (resend_at) "
    "WHERE decided_at IS NULL"
)
PUBLISH_ERRORS = (PublishError, KafkaError, OSError)
#: Longest wait between two sends of a report that stays undecided.
MAX_RESEND_SECONDS = 3600.0


@dataclass(frozen=True)
class Stored:
    """A submission as the outbox holds it."""

    report: ReportSubmitted
    fingerprint: str
    warnings: list[dict[str, object]]
    state: str
    partition: int | None
    offset: int | None
    attempts: int = 0
    decision: Decision | None = None


class Writing:
    """One write transaction of the outbox (see ``Outbox.transaction``)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def exists(self, report_id: str) -> bool:
        row = self._db.execute("SELECT 1 FROM submissions WHERE report_id = ?", (report_id,))
        return row.fetchone() is not None

    def has_other(self, ledger_key: str, report_id: str) -> bool:
        return _has_other(self._db, ledger_key, report_id)

    def insert(
        self, report: ReportSubmitted, fingerprint: str, warnings: list[dict[str, object]]
    ) -> None:
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


class Outbox:
    """Keep submissions durable until the broker has them and the warehouse has a decision.

    Writes go through one connection (``synchronous=FULL``: a committed row survives
    power loss); reads through another, so a request never waits behind an fsync.
    ``resend_after_s``: how long a sent report may stay undecided before it is sent
    again (doubling with each attempt, up to an hour).
    """

    def __init__(self, path: Path, resend_after_s: float = 120.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.resend_after_s = resend_after_s
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        have = {row[1] for row in self._db.execute("PRAGMA table_info(submissions)")}
        for name, kind in ADDED.items():
            if name not in have:
                self._db.execute(f"ALTER TABLE submissions ADD COLUMN {name} {kind}")
        self._db.execute(UNDECIDED_INDEX)
        self._lock = threading.Lock()
        self._read = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._read_lock = threading.Lock()
        # A 'sending' row left by a crash was never confirmed: deliver it again.
        with self._lock:
            self._db.execute("UPDATE submissions SET state = 'queued' WHERE state = 'sending'")

    @contextmanager
    def transaction(self) -> Iterator[Writing]:
        """One write transaction: every insert in it is durable at once, or none is."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield Writing(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def _unsynced(self) -> Iterator[sqlite3.Connection]:
        """Write without waiting for the disk: for changes a crash may lose harmlessly.

        A lost 'sent', 'queued' or decision mark only means a report is sent once more
        (and dropped by the stream as a duplicate) or its decision asked for again. The
        next synchronous commit makes these durable too (one WAL, fsynced in order).
        """
        with self._lock:
            self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                yield self._db
            finally:
                self._db.execute("PRAGMA synchronous=FULL")

    def get(self, report_id: str) -> Stored | None:
        with self._read_lock:
            row = self._read.execute(
                'SELECT payload, fingerprint, warnings, state, partition, "offset", attempts, '
                "decision FROM submissions WHERE report_id = ?",
                (report_id,),
            ).fetchone()
        if row is None:
            return None
        decision = Decision.model_validate_json(row[7]) if row[7] else None
        report, printed, warnings, state, partition, offset, attempts = row[:7]
        return Stored(
            ReportSubmitted.model_validate_json(report),
            printed,
            json.loads(warnings),
            state,
            partition,
            offset,
            attempts,
            decision,
        )

    def add(
        self, report: ReportSubmitted, fingerprint: str, warnings: list[dict[str, object]]
    ) -> bool:
        """Record a new submission as 'sending'; False if its report_id is already here."""
        with self.transaction() as tx:
            if tx.exists(str(report.report_id)):
                return False
            tx.insert(report, fingerprint, warnings)
        return True

    def has_other(self, ledger_key: str, report_id: str) -> bool:
        """Whether another submission exists for the same unit, dataset and date."""
        with self._read_lock:
            return _has_other(self._read, ledger_key, report_id)

    def ledger_keys(self, unit_id: str) -> set[str]:
        """Every unit|dataset|date this outbox holds a submission for."""
        with self._read_lock:
            rows = self._read.execute(
                "SELECT DISTINCT ledger_key FROM submissions WHERE ledger_key LIKE ? ESCAPE '\\'",
                (unit_id.replace("_", "\\_").replace("%", "\\%") + "|%",),
            ).fetchall()
        return {r[0] for r in rows}

    def mark_sent(self, receipt: Receipt, at: datetime) -> None:
        self.mark_sent_many([receipt], at)

    def mark_sent_many(self, receipts: Iterable[Receipt], at: datetime | None = None) -> None:
        """Record the broker's acknowledgements, in one transaction."""
        when = (at or datetime.now(UTC)).isoformat()
        now, cap, wait = time.time(), MAX_RESEND_SECONDS, self.resend_after_s
        with self._unsynced() as db:
            db.executemany(
                "UPDATE submissions SET state = 'sent', partition = ?, \"offset\" = ?, "
                "sent_at = ?, attempts = attempts + 1, "
                "resend_at = ? + min(?, ? * (1 << min(attempts, 20))) WHERE report_id = ?",
                [(r.partition, r.offset, when, now, cap, wait, r.report_id) for r in receipts],
            )

    def mark_queued(self, report_ids: list[str]) -> None:
        with self._unsynced() as db:
            db.executemany(
                "UPDATE submissions SET state = 'queued' WHERE report_id = ? AND state != 'sent'",
                [(r,) for r in report_ids],
            )

    def requeue(self, report_ids: list[str]) -> int:
        """Queue sent reports that are still undecided to be sent again; return how many."""
        with self._unsynced() as db:
            cur = db.executemany(
                "UPDATE submissions SET state = 'queued' "
                "WHERE report_id = ? AND state = 'sent' AND decided_at IS NULL",
                [(r,) for r in report_ids],
            )
        return cur.rowcount

    def undecided(self, due_before: float | None = None, limit: int = 1000) -> list[str]:
        """Sent reports without a decision (only those due to be re-sent, given a time)."""
        sql = "SELECT report_id FROM submissions WHERE decided_at IS NULL AND state = 'sent'"
        args: tuple[object, ...] = ()
        if due_before is not None:
            sql += " AND coalesce(resend_at, 0) <= ?"
            args = (due_before,)
        with self._read_lock:
            rows = self._read.execute(f"{sql} ORDER BY rowid LIMIT ?", (*args, limit)).fetchall()
        return [r[0] for r in rows]

    def mark_decided(self, decisions: dict[str, Decision]) -> None:
        """Record what the warehouse holds; an acceptance wins over a rejection."""
        if not decisions:
            return
        now = datetime.now(UTC).isoformat()
        with self._unsynced() as db:
            db.executemany(
                "UPDATE submissions SET decided_at = ?, decision = ? WHERE report_id = ? "
                "AND (decided_at IS NULL OR ? = 'accepted')",
                [(now, d.model_dump_json(), rid, d.status) for rid, d in decisions.items()],
            )

    def queued(self, limit: int = 500) -> list[ReportSubmitted]:
        """The oldest undelivered submissions, in arrival order."""
        with self._read_lock:
            rows = self._read.execute(
                "SELECT payload FROM submissions WHERE state = 'queued' "
                "ORDER BY created_at, rowid LIMIT ?",
                (limit,),
            ).fetchall()
        return [ReportSubmitted.model_validate_json(r[0]) for r in rows]

    def count(self, state: str) -> int:
        with self._read_lock:
            row = self._read.execute(
                "SELECT count(*) FROM submissions WHERE state = ?", (state,)
            ).fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock, self._read_lock:
            self._read.close()
            self._db.close()


def _has_other(db: sqlite3.Connection, ledger_key: str, report_id: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM submissions WHERE ledger_key = ? AND report_id != ? LIMIT 1",
        (ledger_key, report_id),
    ).fetchone()
    return row is not None
