"""Take submissions: check, authorize, apply the correction policy, store, then publish.

Order matters: shape first (nothing else can be read without it), then who may submit
for the unit (a stranger learns nothing about the rules), then idempotency, then the
dataset's rules, then the correction policy, and only then the outbox and the broker.
Every answer comes from state this process keeps (the outbox, ``KnownReports``), never
from a warehouse query per submission: the 14:59 rush is the normal load
(``tests/producers/http/test_hot_path.py``). Days older than the kept state are asked of the
warehouse, as is a receipt whose decision is not known yet.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from contract.clock import Clock
from contract.datasets import Catalog
from contract.errors import SubmissionError
from contract.events import ReportSubmitted
from contract.registry import Registry, Unit, UnitKind
from contract.settings import Settings
from contract.validation import check_submission
from producers.http import errors, policy, receipts
from producers.http.auth import Credential, may_submit
from producers.http.commit import Entry, GroupCommit, Outcome
from producers.http.courier import Courier
from producers.http.errors import ApiError
from producers.http.known import (
    KnownDecision,
    KnownDecisions,
    KnownReports,
    KnownRevision,
    fingerprint_of,
)
from producers.http.models import (
    ApprovalBook,
    Publisher,
    ReceiptOut,
    ReportLookup,
    Revision,
)
from producers.http.outbox import Outbox, Stored
from producers.ingest import build_report

log = logging.getLogger(__name__)


@dataclass
class Pending:
    """A checked submission, waiting for the committer."""

    report: ReportSubmitted
    printed: str  # its fingerprint
    entry: Entry


@dataclass
class Caller:
    """An authenticated request: the token's credential and its unit."""

    credential: Credential
    unit: Unit


def fingerprint(report: ReportSubmitted) -> str:
    """Hash what a submitter chose (not the stamped time), to tell a re-send from a conflict."""
    r = report
    return fingerprint_of(r.dataset, r.unit_id, r.report_date, r.values, r.note, r.reason)


class Desk:
    """The submission logic behind the HTTP routes, free of any web framework."""

    def __init__(
        self,
        settings: Settings,
        registry: Registry,
        catalog: Catalog,
        clock: Clock,
        publisher: Publisher,
        lookup: ReportLookup,
        outbox: Outbox,
        correction_window_days: int = 7,
        approvals: ApprovalBook | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.catalog = catalog
        self.clock = clock
        self.publisher = publisher
        self.lookup = lookup
        self.outbox = outbox
        self.courier = Courier(outbox, publisher)
        self.commits = GroupCommit(outbox, publisher, self.courier)
        self.window = timedelta(days=correction_window_days)
        self.known = KnownReports(self.today() - self.window - timedelta(days=1))
        # The newest review decision of the same days: a correction of a report the
        # province accepted needs a province token. Without a book there are no approvals.
        self.approvals = approvals
        self.decisions = KnownDecisions(self.known.since)
        self.decisions.loaded = approvals is None

    def keep_known(self) -> None:
        """Load the kept days' revisions from the warehouse once; forget days out of range."""
        since = self.today() - self.window - timedelta(days=1)
        self.known.forget_before(since)
        self.decisions.forget_before(since)
        self.keep_decisions()
        if self.known.loaded:
            return
        try:
            found = self.lookup.recent(self.known.since)
        except Exception as exc:  # until it answers, each submission asks the warehouse
            log.warning("warehouse lookup failed, will retry: %s", exc)
            return
        self.known.add(KnownRevision.of(r) for r in found)
        self.known.loaded = True
        log.info("desk: %d accepted revisions since %s kept", len(self.known), self.known.since)

    def keep_decisions(self) -> None:
        """Load the kept days' newest review decisions from the warehouse, once."""
        if self.decisions.loaded or self.approvals is None:
            return
        try:
            found = self.approvals.latest_decisions(self.decisions.since)
        except Exception as exc:  # until it answers, a correction asks (``acceptance``)
            log.warning("warehouse lookup of approvals failed, will retry: %s", exc)
            return
        self.decisions.add(
            KnownDecision(
                d.dataset,
                d.unit_id,
                d.report_date,
                d.action,
                d.approval_id,
                d.by_name,
                d.by_unit,
                d.decided_at,
            )
            for d in found
        )
        self.decisions.loaded = True
        since = self.decisions.since
        log.info("desk: %d review decisions since %s kept", len(self.decisions), since)

    def guard_covers(self, day: date) -> bool:
        """Whether the acceptance guard answers for ``day`` from kept state (no query)."""
        return self.decisions.covers(day) or day < self.decisions.since

    def acceptance(self, report: ReportSubmitted) -> KnownDecision | None:
        """The province's acceptance standing on the report's unit-day, if any.

        Days before the kept ones need no answer (only a province token corrects them).
        Until the kept decisions are loaded, the first call loads them (one query, run
        in a thread: ``prepare`` sends such days there); if the warehouse cannot answer,
        the correction goes ahead: approval never blocks a report.
        """
        if report.report_date < self.decisions.since:
            return None
        if not self.decisions.covers(report.report_date):
            self.keep_decisions()
            if not self.decisions.covers(report.report_date):
                return None
        return self.decisions.accepted(report.ledger_key)

    def today(self) -> date:
        return self.clock.now().astimezone(self.settings.tz).date()

    def authorize(self, caller: Caller, unit_id: str) -> Unit:
        """Return the unit if the caller may act for it; 403 otherwise, 404 if unknown."""
        unit = self.registry.get(unit_id)
        if unit is None:
            raise errors.not_found(
                f"Đơn vị {unit_id} không có trong danh mục.", f"Unit {unit_id} is not registered."
            )
        if not may_submit(caller.unit, unit):
            raise errors.forbidden(
                f"Tài khoản của {caller.unit.name} không được gửi báo cáo cho {unit.name}.",
                f"The token of unit {caller.unit.unit_id} may not act for unit {unit.unit_id}.",
            )
        return unit

    # ------------------------------------------------------------------ one report
    def submit(self, caller: Caller, fields: dict[str, Any]) -> tuple[int, ReceiptOut]:
        """Check and publish one report; return (HTTP status, receipt)."""
        step = self.prepare(caller, fields)
        assert step is not None  # cold days allowed
        if isinstance(step, Pending):
            (outcome,) = self.commits.commit([step.entry])
            return self.finish(step, outcome)
        return step

    def prepare(
        self, caller: Caller, fields: dict[str, Any], cold: bool = True
    ) -> Pending | tuple[int, ReceiptOut] | None:
        """Everything before the commit: an answer already, or the entry to commit.

        Without ``cold``, a report whose day the kept state does not cover gives None
        (its checks would query the warehouse: the caller runs ``submit`` in a thread).
        """
        try:
            report = build_report(fields, self.clock, caller.credential.name)
        except SubmissionError as exc:
            raise errors.invalid(exc.reasons) from exc
        self.authorize_unit_field(caller, report.unit_id)
        day = report.report_date
        if not cold and not (self.known.covers(day) and self.guard_covers(day)):
            return None
        printed = fingerprint(report)
        earlier = self.cold_revisions(report)
        known = self.known_receipt(report, printed, earlier)
        if known is not None:
            return 200, known
        # check_submission rather than preflight: a rule's violation names every field
        # involved, and the form marks each of them.
        verdict = check_submission(report, self.registry, self.catalog, self.settings.tz)
        if verdict.errors:
            raise errors.invalid([*verdict.errors])
        refusal = self.correction_refusal(caller, report)
        if refusal is not None and self.has_earlier(report, earlier):
            raise refusal
        warnings = [w.model_dump(mode="json") for w in verdict.warnings]
        return Pending(report, printed, Entry(report, printed, warnings, refusal))

    def finish(self, step: Pending, outcome: Outcome) -> tuple[int, ReceiptOut]:
        """The answer to a committed submission: 201 sent, 202 queued, 200 a re-send."""
        if outcome.error is not None:
            raise outcome.error  # a correction that raced another submission and lost
        if outcome.state == "exists":  # a concurrent request with the same report_id won
            known = self.known_receipt(step.report, step.printed, in_flight=True)
            assert known is not None
            return 200, known
        return (201 if outcome.state == "sent" else 202), receipts.of_new(step.report, outcome)

    def authorize_unit_field(self, caller: Caller, unit_id: str) -> None:
        # An unknown unit is a field problem of the report (422), not a missing resource.
        if unit_id in self.registry:
            self.authorize(caller, unit_id)

    def cold_revisions(self, report: ReportSubmitted) -> list[Revision] | None:
        """The unit's revisions from the report's day on, if that day is not kept (a query)."""
        if self.known.covers(report.report_date):
            return None
        return self.revisions(report.unit_id, report.report_date)

    def known_receipt(
        self,
        report: ReportSubmitted,
        printed: str,
        cold: list[Revision] | None = None,
        in_flight: bool = False,
    ) -> ReceiptOut | None:
        """The original receipt of a re-sent report_id; 409 if it carried other content.

        ``cold``: ``cold_revisions(report)``, when the caller has it already. A report
        another request is publishing right now has no receipt yet: None, unless
        ``in_flight`` (the committer then answers once that publish is done).
        """
        rid = str(report.report_id)
        stored = self.outbox.get(rid)
        if stored is not None:
            if stored.fingerprint != printed:
                raise policy.conflict(rid)
            if stored.state == "sending" and not in_flight:
                return None
            return self.receipt_of(stored)
        kept = self.known.get(rid)
        if kept is None and not self.known.covers(report.report_date):
            found = (self.cold_revisions(report) or []) if cold is None else cold
            earlier = next((r for r in found if r.report_id == rid), None)
            kept = KnownRevision.of(earlier) if earlier is not None else None
        if kept is None:
            return None
        if kept.fingerprint != printed:
            raise policy.conflict(rid)
        return receipts.of_known(kept)

    def revisions(self, unit_id: str, since: date) -> list[Revision]:
        """Accepted revisions from the warehouse; none if it cannot answer right now."""
        try:
            return self.lookup.revisions(unit_id, since)
        except Exception as exc:  # the stream re-checks everything, so degrade, don't fail
            log.warning("warehouse lookup failed: %s", exc)
            return []

    def has_earlier(self, report: ReportSubmitted, cold: list[Revision] | None = None) -> bool:
        """Whether another submission exists for the report's unit, dataset and date."""
        rid, key = str(report.report_id), report.ledger_key
        if self.outbox.has_other(key, rid):
            return True
        if self.known.covers(report.report_date):
            return self.known.has_other(key, rid)
        found = (self.cold_revisions(report) or []) if cold is None else cold
        return any(
            r.dataset == report.dataset and r.report_date == report.report_date
            for r in found
            if r.report_id != rid
        )

    def check_correction(self, caller: Caller, report: ReportSubmitted) -> None:
        """Refuse a late correction without a reason, and an old one without a province token."""
        refusal = self.correction_refusal(caller, report)
        if refusal is not None and self.has_earlier(report):
            raise refusal

    def correction_refusal(self, caller: Caller, report: ReportSubmitted) -> ApiError | None:
        """What the policy answers if ``report`` turns out to be a correction; None if allowed.

        First who may correct: after the province accepted the unit-day, only a province
        token (after a mere approval anyone may: the correction reopens the review).
        """
        accepted = self.acceptance(report)
        if accepted is not None and caller.unit.kind != UnitKind.PROVINCE:
            unit = self.registry.get(report.unit_id)
            province = self.registry.get(unit.province_id) if unit is not None else None
            return policy.after_acceptance(
                report,
                unit.name if unit is not None else report.unit_id,
                accepted.by_name,
                province.name if province is not None else accepted.by_unit,
            )
        dataset = self.catalog.get(report.dataset)
        assert dataset is not None  # preflight refused unknown datasets
        deadline = dataset.deadline_at(report.report_date, self.settings.tz)
        age = self.today() - report.report_date
        return policy.refusal(report, deadline, age, self.window, caller.unit.kind)

    def status(self, report_id: str) -> Stored | None:
        """A stored submission; a sent one without a decision is checked in the warehouse."""
        stored = self.outbox.get(report_id)
        if stored is None or stored.decision is not None or stored.state != "sent":
            return stored
        try:
            found = self.lookup.decisions([report_id])
        except Exception as exc:  # a receipt without the decision beats no receipt
            log.warning("warehouse lookup failed: %s", exc)
            return stored
        if report_id in found:
            self.outbox.mark_decided(found)
            return self.outbox.get(report_id)
        return stored

    def receipt_of(self, stored: Stored) -> ReceiptOut:
        """Describe a stored submission, with the stream's decision once the warehouse has it."""
        return receipts.of_stored(stored)
