"""Alert texts in Vietnamese and English, built from units, datasets and instants."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from contract.datasets import Dataset
from contract.events import Alert, ApprovalRecorded, ReportAccepted, ReportRejected
from contract.registry import Unit

if TYPE_CHECKING:
    from streams.deadlines import Partial

#: How many missing units a summary names before "…" (the full list is in details).
NAMED_IN_SUMMARY = 20


def _id(kind: str, dataset: str, scope: str, day: date) -> str:
    return f"{kind}:{dataset}:{scope}:{day.isoformat()}"


def _hm(instant: datetime) -> str:
    return instant.strftime("%H:%M")


def _report_vi(ds: Dataset) -> str:
    """The dataset inside a sentence: "báo cáo ngày cấp huyện" (its name says "báo cáo")."""
    name = ds.name_vi
    return name[0].lower() + name[1:] if name.startswith("Báo cáo") else f"báo cáo {name}"


def _report_en(ds: Dataset) -> str:
    """The dataset inside a sentence, "report" said once: "District daily report"."""
    name = ds.name_en
    return name if name.lower().endswith("report") else f"{name} report"


def _where(unit: Unit) -> dict[str, Any]:
    return {
        "unit_name": unit.name,
        "province_id": unit.province_id,
        "district_id": unit.district_id,
        "parent_id": unit.parent_id,
    }


def reminder(unit: Unit, ds: Dataset, day: date, deadline: datetime, now: datetime) -> Alert:
    """Nudge a unit that has not reported yet, before the deadline."""
    return Alert(
        alert_id=_id("reminder", ds.code, unit.unit_id, day),
        kind="reminder",
        severity="info",
        dataset=ds.code,
        unit_id=unit.unit_id,
        report_date=day,
        raised_at=now,
        message_vi=f"Nhắc: {unit.name} chưa gửi {_report_vi(ds)} ngày {day:%d/%m/%Y}; "
        f"hạn chót {_hm(deadline)}.",
        message_en=f"Reminder: {unit.name} has not sent its {_report_en(ds)} "
        f"for {day.isoformat()}; due at {_hm(deadline)}.",
        details={**_where(unit), "deadline": deadline.isoformat()},
    )


def missing(
    unit: Unit, ds: Dataset, day: date, deadline: datetime, now: datetime, escalate: Unit | None
) -> Alert:
    """Tell that a unit missed the deadline; addressed to its parent on the second day."""
    vi = f"{unit.name} chưa gửi {_report_vi(ds)} ngày {day:%d/%m/%Y} (hạn chót {_hm(deadline)})."
    en = (
        f"{unit.name} has not sent its {_report_en(ds)} for "
        f"{day.isoformat()} (due at {_hm(deadline)})."
    )
    details = {**_where(unit), "deadline": deadline.isoformat(), "escalated": escalate is not None}
    if escalate is not None:
        vi += f" Đã thiếu 2 ngày liên tiếp: đề nghị {escalate.name} đôn đốc."
        en += f" Missing two days in a row: {escalate.name} to follow up."
        details["address_to"] = escalate.unit_id
        details["address_to_name"] = escalate.name
    return Alert(
        alert_id=_id("missing", ds.code, unit.unit_id, day),
        kind="missing",
        severity="critical" if escalate is not None else "warning",
        dataset=ds.code,
        unit_id=unit.unit_id,
        report_date=day,
        raised_at=now,
        message_vi=vi,
        message_en=en,
        details=details,
    )


def late(report: ReportAccepted, unit: Unit | None, ds: Dataset, now: datetime) -> Alert:
    """Tell that a missing report finally arrived, after the deadline."""
    name = unit.name if unit else report.unit_id
    at = report.first_submitted_at.astimezone(report.deadline.tzinfo)
    return Alert(
        alert_id=_id("late", ds.code, report.unit_id, report.report_date),
        kind="late",
        severity="info",
        dataset=ds.code,
        unit_id=report.unit_id,
        report_date=report.report_date,
        raised_at=now,
        message_vi=f"{name} gửi {_report_vi(ds)} ngày {report.report_date:%d/%m/%Y} muộn, "
        f"lúc {at:%H:%M %d/%m} (hạn chót {_hm(report.deadline)}).",
        message_en=f"{name} sent its {_report_en(ds)} "
        f"for {report.report_date.isoformat()} late, at {at:%Y-%m-%d %H:%M} "
        f"(due {_hm(report.deadline)}).",
        details={
            **(_where(unit) if unit else {}),
            "report_id": str(report.report_id),
            "first_submitted_at": report.first_submitted_at.isoformat(),
            "deadline": report.deadline.isoformat(),
        },
    )


def rejected(
    event: ReportRejected, unit: Unit | None, dataset: str, day: date, now: datetime
) -> Alert:
    """Tell operators a unit's report was refused, with the first reason."""
    first = event.errors[0]
    who = unit.name if unit else (event.unit_id or "?")
    return Alert(
        alert_id=_id("rejected", dataset, event.unit_id or "unknown", day),
        kind="rejected",
        severity="warning",
        dataset=dataset,
        unit_id=event.unit_id or "unknown",
        report_date=day,
        raised_at=now,
        message_vi=f"Báo cáo của {who} ngày {day:%d/%m/%Y} bị từ chối: {first.message_vi}",
        message_en=f"A report from {who} for {day.isoformat()} was refused: {first.message_en}",
        details={
            **(_where(unit) if unit else {}),
            "rejection_id": str(event.rejection_id),
            "rule_ids": [e.code for e in event.errors],
        },
    )


def returned(
    event: ApprovalRecorded, unit: Unit | None, reviewer: Unit | None, now: datetime
) -> Alert:
    """Tell a submitter its report was sent back, by whom and why, to correct and resend.

    One alert per returned revision: its id names the revision, so a redelivered return
    has the same id (the notifier and the warehouse drop the repeat), and a return of a
    later correction is a new alert.
    """
    day = event.report_date
    name = unit.name if unit else event.unit_id
    by = f"{reviewer.name if reviewer else event.by_unit} ({event.by_name})"
    why = event.reason.strip().rstrip(".")  # the sentence adds its own full stop
    return Alert(
        alert_id=f"returned:{event.dataset}:{event.unit_id}:{day.isoformat()}:r{event.revision}",
        kind="returned",
        severity="warning",
        dataset=event.dataset,
        unit_id=event.unit_id,
        report_date=day,
        raised_at=now,
        message_vi=f"Báo cáo ngày {day:%d/%m/%Y} ({event.dataset}) của {name} bị {by} "
        f"trả lại: {why}. Vui lòng sửa và gửi lại.",
        message_en=f"The {event.dataset} report of {name} for {day.isoformat()} was returned "
        f"by {by}: {why}. Please correct it and send it again.",
        details={
            **(_where(unit) if unit else {}),
            "approval_id": event.approval_id,
            "revision": event.revision,
            "by_unit": event.by_unit,
            "by_unit_name": reviewer.name if reviewer else event.by_unit,
            "by_name": event.by_name,
            "reason": event.reason,
        },
    )


def summary_deadline(
    ds: Dataset, total: Partial, names: list[str], now: datetime, alert_id: str
) -> Alert:
    """Tell leadership at the deadline how many units have not reported, and which."""
    n, of = len(total.missing), total.expected
    shown = ", ".join(names[:NAMED_IN_SUMMARY]) + (" …" if n > NAMED_IN_SUMMARY else "")
    if n:
        vi = f"{n}/{of} đơn vị chưa báo cáo {ds.name_vi} ngày {total.day:%d/%m/%Y}: {shown}"
        en = f"{n} of {of} units have not reported {ds.name_en} for {total.day}: {shown}"
    else:
        vi = f"Tất cả {of} đơn vị đã báo cáo {ds.name_vi} ngày {total.day:%d/%m/%Y} đúng hạn."
        en = f"All {of} units reported {ds.name_en} for {total.day} on time."
    return _summary(ds, total, now, alert_id, vi, en, "warning" if n else "info")


def summary_complete(ds: Dataset, total: Partial, now: datetime, alert_id: str) -> Alert:
    """Tell leadership the day's reporting is complete, after the deadline."""
    vi = (
        f"Đã đủ báo cáo {ds.name_vi} ngày {total.day:%d/%m/%Y}: {total.expected} đơn vị "
        f"({total.on_time} đúng hạn, {total.late} muộn)."
    )
    en = (
        f"Reporting of {ds.name_en} for {total.day} is complete: {total.expected} units "
        f"({total.on_time} on time, {total.late} late)."
    )
    return _summary(ds, total, now, alert_id, vi, en, "info")


def _summary(
    ds: Dataset, total: Partial, now: datetime, alert_id: str, vi: str, en: str, severity: str
) -> Alert:
    return Alert(
        alert_id=alert_id,
        kind="summary",
        severity="warning" if severity == "warning" else "info",
        dataset=ds.code,
        unit_id="*",
        report_date=total.day,
        raised_at=now,
        message_vi=vi,
        message_en=en,
        details={
            "expected": total.expected,
            "on_time": total.on_time,
            "late": total.late,
            "missing": total.missing,
        },
    )
