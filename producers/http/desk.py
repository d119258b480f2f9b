"""Take submissions: check, authorize, apply the correction policy, store, then publish.

Order matters: shape first (nothing else can be read without it), then who may submit
for the unit (a stranger learns nothing about the rules), then idempotency, then the
dataset's rules, then the correction policy, and only then the outbox and the broker.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from contract.clock import Clock
from contract.datasets import Catalog
from contract.errors import Problem, SubmissionError
from contract.events import ReportSubmitted, Violation
from contract.registry import Registry, Unit, UnitKind
from contract.settings import Settings
from contract.validation import check_submission
from producers.http import errors
from producers.http.auth import Credential, may_submit
from producers.http.models import (
    Publisher,
    Reason,
    ReceiptOut,
    ReportLookup,
    Revision,
    reason_of,
)
from producers.http.outbox import PUBLISH_ERRORS, Courier, Outbox, Stored
from producers.ingest import build_report

log = logging.getLogger(__name__)


@dataclass
class Caller:
    """An authenticated request: the token's credential and its unit."""

    credential: Credential
    unit: Unit


def fingerprint(report: ReportSubmitted) -> str:
    """Hash what a submitter chose (not the stamped time), to tell a re-send from a conflict."""
    chosen: list[Any] = [report.dataset, report.unit_id, report.report_date.isoformat()]
    chosen += [sorted(report.values.items()), report.note, report.reason]
    return hashlib.sha256(json.dumps(chosen, ensure_ascii=False).encode()).hexdigest()


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
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.catalog = catalog
        self.clock = clock
        self.publisher = publisher
        self.lookup = lookup
        self.outbox = outbox
        self.courier = Courier(outbox, publisher)
        self.window = timedelta(days=correction_window_days)

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
        try:
            report = build_report(fields, self.clock, caller.credential.name)
        except SubmissionError as exc:
            raise errors.invalid(errors.reasons(exc.problems)) from exc
        self.authorize_unit_field(caller, report.unit_id)
        known = self._known(report)
        if known is not None:
            return 200, known
        # check_submission rather than preflight: a rule's violation names every field
        # involved, and the form marks each of them.
        verdict = check_submission(report, self.registry, self.catalog, self.settings.tz)
        if verdict.errors:
            raise errors.invalid([reason_of(v) for v in verdict.errors])
        self.check_correction(caller, report)
        warnings = [w.model_dump(mode="json") for w in verdict.warnings]
        if not self.outbox.add(report, fingerprint(report), warnings):
            known = self._known(report)  # a concurrent request with the same report_id won
            assert known is not None
            return 200, known
        status = self._publish([report])
        stored = self.outbox.get(str(report.report_id))
        assert stored is not None
        return (201 if status == "received" else 202), self.receipt_of(stored)

    def authorize_unit_field(self, caller: Caller, unit_id: str) -> None:
        # An unknown unit is a field problem of the report (422), not a missing resource.
        if unit_id in self.registry:
            self.authorize(caller, unit_id)

    def _known(self, report: ReportSubmitted) -> ReceiptOut | None:
        """The original receipt of a re-sent report_id; 409 if it carried other content."""
        stored = self.outbox.get(str(report.report_id))
        if stored is not None:
            if stored.fingerprint != fingerprint(report):
                raise _conflict(str(report.report_id))
            return self.receipt_of(stored)
        earlier = self._revision(report.unit_id, report.report_date, str(report.report_id))
        if earlier is None:
            return None
        if fingerprint(_as_report(earlier, report)) != fingerprint(report):
            raise _conflict(str(report.report_id))
        return self.receipt_of(Stored(_as_report(earlier, report), "", [], "sent", None, None))

    def _revision(self, unit_id: str, day: date, report_id: str) -> Revision | None:
        return next((r for r in self.revisions(unit_id, day) if r.report_id == report_id), None)

    def revisions(self, unit_id: str, since: date) -> list[Revision]:
        """Accepted revisions from the warehouse; none if it cannot answer right now."""
        try:
            return self.lookup.revisions(unit_id, since)
        except Exception as exc:  # the stream re-checks everything, so degrade, don't fail
            log.warning("warehouse lookup failed: %s", exc)
            return []

    def check_correction(self, caller: Caller, report: ReportSubmitted) -> None:
        """Refuse a late correction without a reason, and an old one without a province token."""
        rid = str(report.report_id)
        earlier = self.outbox.has_other(report.ledger_key, rid) or any(
            r.dataset == report.dataset and r.report_date == report.report_date
            for r in self.revisions(report.unit_id, report.report_date)
            if r.report_id != rid
        )
        if not earlier:
            return
        dataset = self.catalog.get(report.dataset)
        assert dataset is not None  # preflight refused unknown datasets
        deadline = dataset.deadline_at(report.report_date, self.settings.tz)
        if report.submitted_at >= deadline and not report.reason.strip():
            raise errors.invalid(
                errors.reasons(
                    [
                        Problem(
                            "reason_required",
                            "reason",
                            "Sửa báo cáo sau hạn chót phải nêu lý do (trường reason).",
                            "A correction after the deadline must give a reason (field 'reason').",
                        )
                    ]
                )
            )
        age = self.today() - report.report_date
        if age > self.window and caller.unit.kind != UnitKind.PROVINCE:
            days = self.window.days
            raise errors.forbidden(
                f"Không được sửa báo cáo cũ hơn {days} ngày; cần tài khoản cấp tỉnh.",
                f"A report older than {days} days may only be corrected with a province token.",
                errors.reasons(
                    [
                        Problem(
                            "correction_too_old",
                            "report_date",
                            f"Báo cáo ngày {report.report_date} đã quá {days} ngày.",
                            f"The report of {report.report_date} is more than {days} days old.",
                        )
                    ]
                ),
            )

    def _publish(self, reports: list[ReportSubmitted]) -> str:
        """Send reports already in the outbox; 'received' when acked, else 'queued'."""
        ids = [str(r.report_id) for r in reports]
        if self.outbox.count("queued"):
            # Older reports wait for the broker: a newer one must not overtake them
            # (a correction would otherwise arrive before the report it corrects).
            self.outbox.mark_queued(ids)
            self.courier.kick()
            return "queued"
        try:
            receipts = self.publisher.send(reports)
        except PUBLISH_ERRORS as exc:
            log.warning("broker unreachable, %d report(s) queued: %s", len(reports), exc)
            self.outbox.mark_queued(ids)
            self.courier.kick()
            return "queued"
        now = self.clock.now()
        for receipt in receipts:
            self.outbox.mark_sent(receipt, now)
        return "received"

    def receipt_of(self, stored: Stored) -> ReceiptOut:
        """Describe a stored submission, with the stream's decision once the warehouse has it."""
        r = stored.report
        out = ReceiptOut(
            report_id=str(r.report_id),
            unit_id=r.unit_id,
            dataset=r.dataset,
            report_date=r.report_date,
            submitted_at=r.submitted_at,
            submitted_by=r.submitted_by,
            status="received" if stored.state == "sent" else "queued",
            partition=stored.partition,
            offset=stored.offset,
            warnings=[reason_of(Violation.model_validate(w)) for w in stored.warnings],
        )
        try:
            decision = self.lookup.decision(out.report_id)
        except Exception as exc:  # a receipt without the decision beats no receipt
            log.warning("warehouse lookup failed: %s", exc)
            decision = None
        if decision is not None:
            out.status = decision.status
            out.revision = decision.revision
            out.timeliness = decision.timeliness
            if decision.warnings:
                out.warnings = [reason_of(w) for w in decision.warnings]
            out.errors = [reason_of(e) for e in decision.errors]
        out.message_vi, out.message_en = _STATUS_TEXT[out.status]
        return out


_STATUS_TEXT = {
    "received": ("Đã nhận báo cáo; đang xử lý.", "Report received; being processed."),
    "queued": (
        "Đã lưu báo cáo; sẽ tự gửi khi máy chủ sẵn sàng.",
        "Report saved; it will be sent automatically when the server is back.",
    ),
    "accepted": ("Báo cáo đã được chấp nhận.", "Report accepted."),
    "rejected": ("Báo cáo bị từ chối; xem lý do.", "Report rejected; see the reasons."),
}


def _conflict(report_id: str) -> errors.ApiError:
    return errors.ApiError(
        409,
        "report_id_conflict",
        f"Mã báo cáo {report_id} đã được dùng cho nội dung khác; hãy dùng mã mới.",
        f"report_id {report_id} was already used for different content; use a new one.",
        [
            Reason(
                code="report_id_conflict",
                field="report_id",
                message_vi="Mã báo cáo đã được dùng cho nội dung khác.",
                message_en="This report_id was already used for different content.",
            )
        ],
    )


def _as_report(rev: Revision, like: ReportSubmitted) -> ReportSubmitted:
    return like.model_copy(
        update={
            "dataset": rev.dataset,
            "report_date": rev.report_date,
            "values": rev.values,
            "note": rev.note,
            "reason": rev.reason,
            "submitted_at": rev.submitted_at,
            "submitted_by": rev.submitted_by,
        }
    )
