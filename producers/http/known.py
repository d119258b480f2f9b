"""What the desk knows without asking the warehouse: accepted revisions of recent days.

A submission needs two answers before it is stored: whether its report_id was used
before (a re-send, or a conflict), and whether its unit-day already has a report (a
correction, with its policy). Asked of the warehouse, one query each, they were most of
the API's time under load. This index holds, for every unit-day from ``since`` on, the
report_ids the warehouse has accepted and a fingerprint of each one's content: loaded
from the warehouse when the service starts, then fed by the sink with every revision
the moment the warehouse confirms it (``baocao/feed.py``). Older days are asked of the
warehouse, as before. Between a decision and its feed the index may lag by one sink
flush; the stream checks everything again, so a stale answer is at worst a 201
"received" for what the stream then decides (``tests/producers/http/test_hot_path.py``).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from contract.events import Violation
from producers.http.models import Decision, Revision


def fingerprint_of(
    dataset: str, unit_id: str, day: date, values: Mapping[str, int], note: str, reason: str
) -> str:
    """Hash what a submitter chose (not the stamped time), to tell a re-send from a conflict."""
    chosen: list[Any] = [dataset, unit_id, day.isoformat()]
    chosen += [sorted(values.items()), note, reason]
    return hashlib.sha256(json.dumps(chosen, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class KnownRevision:
    """One accepted revision, as much of it as a receipt and a conflict check need."""

    report_id: str
    dataset: str
    unit_id: str
    report_date: date
    fingerprint: str
    submitted_at: datetime
    submitted_by: str
    revision: int
    timeliness: Literal["on_time", "late"]
    warnings: tuple[Violation, ...]

    @property
    def ledger_key(self) -> str:
        return f"{self.unit_id}|{self.dataset}|{self.report_date.isoformat()}"

    def decision(self) -> Decision:
        return Decision(
            status="accepted",
            revision=self.revision,
            timeliness=self.timeliness,
            warnings=list(self.warnings),
        )

    @classmethod
    def of(cls, r: Revision) -> KnownRevision:
        fp = fingerprint_of(r.dataset, r.unit_id, r.report_date, r.values, r.note, r.reason)
        return cls(
            r.report_id,
            r.dataset,
            r.unit_id,
            r.report_date,
            fp,
            r.submitted_at,
            r.submitted_by,
            r.revision,
            r.timeliness,
            tuple(r.warnings),
        )


class KnownReports:
    """Accepted revisions of every unit-day from ``since`` on, by report_id and unit-day."""

    def __init__(self, since: date) -> None:
        self._since = since
        self.loaded = False  # until the warehouse was read once, nothing is covered
        self._by_id: dict[str, KnownRevision] = {}
        self._by_key: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    @property
    def since(self) -> date:
        return self._since

    def covers(self, day: date) -> bool:
        """Whether every accepted revision of ``day`` is here."""
        return self.loaded and day >= self._since

    def add(self, revisions: Iterable[KnownRevision]) -> None:
        with self._lock:
            for k in revisions:
                if k.report_id not in self._by_id:
                    self._by_id[k.report_id] = k
                    self._by_key.setdefault(k.ledger_key, set()).add(k.report_id)

    def get(self, report_id: str) -> KnownRevision | None:
        with self._lock:
            return self._by_id.get(report_id)

    def has_other(self, ledger_key: str, report_id: str) -> bool:
        """Whether the unit-day has an accepted revision with another report_id."""
        with self._lock:
            ids = self._by_key.get(ledger_key, ())
            return any(i != report_id for i in ids)

    def forget_before(self, day: date) -> int:
        """Drop revisions of days before ``day`` (asked of the warehouse from now on)."""
        with self._lock:
            if day <= self._since:
                return 0
            self._since = day
            old = [k for k in self._by_id.values() if k.report_date < day]
            for k in old:
                del self._by_id[k.report_id]
                ids = self._by_key.get(k.ledger_key)
                if ids is not None:
                    ids.discard(k.report_id)
                    if not ids:
                        del self._by_key[k.ledger_key]
            return len(old)

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_id)


@dataclass(frozen=True, slots=True)
class KnownDecision:
    """The newest review decision on a unit-day, as much as the correction guard needs."""

    dataset: str
    unit_id: str
    report_date: date
    action: str
    approval_id: str
    by_name: str
    by_unit: str
    decided_at: datetime

    @property
    def ledger_key(self) -> str:
        return f"{self.unit_id}|{self.dataset}|{self.report_date.isoformat()}"

    @property
    def order(self) -> tuple[datetime, str]:
        # The warehouse's approvals_latest picks the newest the same way.
        return (self.decided_at, self.approval_id)


class KnownDecisions:
    """The newest review decision of every unit-day from ``since`` on.

    Like ``KnownReports``: loaded from the warehouse when the service starts, then fed
    by the sink (``baocao/feed.py``) and by the approval routes as they record. A
    redelivered older decision never replaces a newer one. Days before ``since`` need no
    answer: a correction that old needs a province token anyway (``policy.refusal``).
    """

    def __init__(self, since: date) -> None:
        self._since = since
        self.loaded = False
        self._by_key: dict[str, KnownDecision] = {}
        self._lock = threading.Lock()

    @property
    def since(self) -> date:
        return self._since

    def covers(self, day: date) -> bool:
        return self.loaded and day >= self._since

    def add(self, decisions: Iterable[KnownDecision]) -> None:
        with self._lock:
            for d in decisions:
                if d.report_date < self._since:
                    continue
                held = self._by_key.get(d.ledger_key)
                if held is None or d.order > held.order:
                    self._by_key[d.ledger_key] = d

    def accepted(self, ledger_key: str) -> KnownDecision | None:
        """The acceptance standing on a unit-day (its newest decision), else None."""
        with self._lock:
            held = self._by_key.get(ledger_key)
        return held if held is not None and held.action == "accept" else None

    def forget_before(self, day: date) -> None:
        with self._lock:
            if day <= self._since:
                return
            self._since = day
            for key in [k for k, d in self._by_key.items() if d.report_date < day]:
                del self._by_key[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_key)
