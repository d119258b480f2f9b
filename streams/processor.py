"""Turn one message from ``reports.submitted`` into the events it causes.

Kept apart from Faust so the whole decision path is tested without a broker; the agent
only moves bytes and table entries in and out of it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from contract import topics
from contract.clock import Clock
from contract.datasets import Catalog
from contract.events import ReportAccepted, ReportRejected, ReportSubmitted, SourceRef, Violation
from contract.registry import Registry
from contract.validation import check_submission, decode_submission
from streams.ledger import LedgerEntry, decide

log = logging.getLogger(__name__)

#: Namespace for rejection ids: the same message always yields the same rejection_id.
_REJECTION_NS = uuid.UUID("5b0c2c55-6f1b-4e0f-9d59-0a8f1f6c8e11")

#: A ledger entry as stored (``LedgerEntry.to_json``; the object form in older changelogs).
Stored = list[Any] | dict[str, Any]
LedgerGet = Callable[[str], Stored | None]
LedgerSet = Callable[[str, Stored], None]


@dataclass(frozen=True)
class Output:
    topic: str
    key: bytes
    value: bytes
    #: The same decision as a model, so the deadline watch does not parse ``value`` again.
    event: ReportAccepted | ReportRejected
    #: Not a report at all (not JSON, wrong shape or schema): the message also goes,
    #: whole, to the dead-letter topic with this reason.
    dead_letter: str | None = None


@dataclass
class Counters:
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)


class SubmissionProcessor:
    """Validate, dedupe, number revisions and decide timeliness for one submission."""

    def __init__(
        self, registry: Registry, catalog: Catalog, tz: ZoneInfo, clock: Clock, max_bytes: int
    ) -> None:
        self.registry = registry
        self.catalog = catalog
        self.tz = tz
        self.clock = clock
        self.max_bytes = max_bytes
        self.counters = Counters()

    def process(
        self,
        key: bytes | None,
        value: bytes | None,
        source: SourceRef,
        get: LedgerGet,
        put: LedgerSet,
    ) -> Output | None:
        """Return the event to publish, or None for a dropped duplicate."""
        report, obj, errors = decode_submission(value or b"", self.max_bytes)
        if report is None:
            out = self._reject(key, value or b"", obj, None, errors, source)
            return dataclasses.replace(out, dead_letter="; ".join(e.code for e in errors))
        verdict = check_submission(report, self.registry, self.catalog, self.tz)
        if not verdict.ok:
            return self._reject(key, value or b"", None, report, verdict.errors, source)
        dataset = self.catalog.get(report.dataset)
        assert dataset is not None  # check_submission rejected unknown datasets
        deadline = dataset.deadline_at(report.report_date, self.tz)
        stored = get(report.ledger_key)
        entry = LedgerEntry.from_json(stored) if stored else None
        decision = decide(entry, report, deadline, source.partition, source.offset)
        if decision.action == "reject":
            return self._reject(key, value or b"", None, report, list(decision.errors), source)
        if decision.action == "duplicate":
            self.counters.duplicates += 1
            log.info(
                "dropped re-sent report %s (revision %d)",
                report.report_id,
                decision.revision,
                extra={
                    "unit_id": report.unit_id,
                    "report_id": str(report.report_id),
                    "dataset": report.dataset,
                },
            )
            return None
        if decision.entry is not None:
            put(report.ledger_key, decision.entry.to_json())
        assert decision.first_submitted_at is not None
        accepted = ReportAccepted(
            **report.model_dump(exclude={"schema_"}),
            revision=decision.revision,
            timeliness=decision.timeliness,
            first_submitted_at=decision.first_submitted_at,
            deadline=deadline,
            warnings=verdict.warnings,
            accepted_at=self.clock.now(),
        )
        self.counters.accepted += 1
        log.debug(
            "accepted report %s from %s[%d]@%d as revision %d",
            report.report_id,
            source.topic,
            source.partition,
            source.offset,
            decision.revision,
        )
        return Output(topics.ACCEPTED, report.unit_id.encode(), accepted.to_json(), accepted)

    def _reject(
        self,
        key: bytes | None,
        raw: bytes,
        obj: dict[str, Any] | None,
        report: ReportSubmitted | None,
        errors: list[Violation],
        source: SourceRef,
    ) -> Output:
        if report is not None and obj is None:
            obj = json.loads(raw)  # a valid report was parsed into the model only
        fields: dict[str, Any] = {}
        if report is not None:
            fields = {
                "report_id": str(report.report_id),
                "dataset": report.dataset,
                "unit_id": report.unit_id,
                "report_date": report.report_date.isoformat(),
                "submitted_at": report.submitted_at.isoformat(),
                "submitted_by": report.submitted_by,
            }
        elif obj is not None:
            # Keep whatever identifying fields a malformed report carries, as text.
            for name in (
                "report_id",
                "dataset",
                "unit_id",
                "report_date",
                "submitted_at",
                "submitted_by",
            ):
                if isinstance(obj.get(name), str | int):
                    fields[name] = str(obj[name])[:200]
        if "unit_id" not in fields and key:
            fields["unit_id"] = key.decode("utf-8", "replace")[:64]
        rejection = ReportRejected(
            # Same message -> same id (a replay collapses); the digest keeps ids distinct
            # when an in-memory broker restarts and offsets begin again at 0.
            rejection_id=uuid.uuid5(
                _REJECTION_NS,
                f"{source.topic}/{source.partition}/{source.offset}/"
                + hashlib.sha256(raw).hexdigest(),
            ),
            rejected_at=self.clock.now(),
            submission=obj if obj is not None and len(raw) <= self.max_bytes else None,
            raw=None if obj is not None else raw[:1024].decode("utf-8", "replace"),
            source=source,
            errors=errors,
            **fields,
        )
        rules = [e.code for e in errors]
        log.info(
            "rejected report %s of unit %s: %s",
            fields.get("report_id", "?"),
            fields.get("unit_id", "?"),
            ", ".join(rules),
            extra={
                "unit_id": fields.get("unit_id"),
                "report_id": fields.get("report_id"),
                "dataset": fields.get("dataset"),
                "rules": rules,
            },
        )
        self.counters.rejected += 1
        for e in errors:
            self.counters.by_rule[e.code] = self.counters.by_rule.get(e.code, 0) + 1
        out_key = (fields.get("unit_id") or "").encode() or (key or b"")
        return Output(topics.REJECTED, out_key, rejection.to_json(), rejection)
