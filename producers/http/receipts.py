"""Receipts: what the API answers about a submission, from the state this process keeps."""

from __future__ import annotations

from contract.events import ReportSubmitted, Violation
from producers.http.commit import Outcome
from producers.http.known import KnownRevision
from producers.http.models import Decision, ReceiptOut
from producers.http.outbox import Stored

STATUS_TEXT = {
    "received": ("Đã nhận báo cáo; đang xử lý.", "Report received; being processed."),
    "queued": (
        "Đã lưu báo cáo; sẽ tự gửi khi máy chủ sẵn sàng.",
        "Report saved; it will be sent automatically when the server is back.",
    ),
    "accepted": ("Báo cáo đã được chấp nhận.", "Report accepted."),
    "rejected": ("Báo cáo bị từ chối; xem lý do.", "Report rejected; see the reasons."),
}


def of_new(report: ReportSubmitted, outcome: Outcome) -> ReceiptOut:
    """The receipt of a report just stored: on the broker, or queued in the outbox."""
    receipt = outcome.receipt
    out = ReceiptOut(
        report_id=str(report.report_id),
        unit_id=report.unit_id,
        dataset=report.dataset,
        report_date=report.report_date,
        submitted_at=report.submitted_at,
        submitted_by=report.submitted_by,
        status="received" if outcome.state == "sent" else "queued",
        partition=receipt.partition if receipt else None,
        offset=receipt.offset if receipt else None,
        attempts=1 if receipt else 0,
    )
    return decided(out, None)


def of_stored(stored: Stored) -> ReceiptOut:
    """A submission as the outbox holds it, with the decision once the warehouse has it."""
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
        attempts=stored.attempts,
        warnings=[Violation.model_validate(w) for w in stored.warnings],
    )
    return decided(out, stored.decision)


def of_known(kept: KnownRevision) -> ReceiptOut:
    """A revision the warehouse accepted that did not come through this outbox."""
    out = ReceiptOut(
        report_id=kept.report_id,
        unit_id=kept.unit_id,
        dataset=kept.dataset,
        report_date=kept.report_date,
        submitted_at=kept.submitted_at,
        submitted_by=kept.submitted_by,
        status="received",
    )
    return decided(out, kept.decision())


def decided(out: ReceiptOut, decision: Decision | None) -> ReceiptOut:
    """Fill in the stream's decision, if any, and the status's words."""
    if decision is not None:
        out.status = decision.status
        out.revision = decision.revision
        out.timeliness = decision.timeliness
        if decision.warnings:
            out.warnings = [*decision.warnings]
        out.errors = [*decision.errors]
    out.message_vi, out.message_en = STATUS_TEXT[out.status]
    return out
