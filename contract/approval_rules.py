"""Who may approve, accept or return which report, and from which state: pure rules.

DHIS2's approval up the hierarchy. A district reviews the reports of the units whose
``district_id`` is itself (communes, checkpoints): it approves them or returns them. The
province reviews every unit of its province: it accepts what a district approved, and
a report nobody below it reviews (a district's own report, a unit without a district)
straight from submitted; it may also approve and return. Nobody reviews its own report.

The state of a unit-day is the warehouse's ``approval_status`` (or ``not_reported``);
these rules only say yes (None) or why not, as a bilingual ``Reason``. They never hold
a report back: the stream decides reports without looking at approvals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from contract.events import ApprovalAction
from contract.reasons import Reason
from contract.registry import Registry, Unit, UnitKind

State = Literal["not_reported", "submitted", "approved", "accepted", "returned", "reopened"]
ACTIONS: tuple[ApprovalAction, ...] = ("approve", "accept", "return")
#: The state a recorded decision leaves its unit-day in.
RESULT: dict[ApprovalAction, State] = {
    "approve": "approved",
    "accept": "accepted",
    "return": "returned",
}
_DONE_VI = {"approve": "duyệt", "accept": "chấp nhận", "return": "trả lại"}
_STATE_VI: dict[State, str] = {
    "not_reported": "chưa báo cáo",
    "submitted": "đã gửi, chưa duyệt",
    "approved": "đã duyệt",
    "accepted": "đã được tỉnh chấp nhận",
    "returned": "đã trả lại",
    "reopened": "đã sửa sau khi duyệt",
}


@dataclass(frozen=True)
class UnitDay:
    """What a reviewer acts on: a unit-day's state of review and its latest revision.

    ``action``: the latest decision's action ('' when none); ``approved_revision``: the
    revision an approval or acceptance was about (0 when none, or returned).
    """

    state: State = "not_reported"
    revision: int | None = None
    approved_revision: int = 0
    action: str = ""


NOT_REPORTED = UnitDay()


def is_reviewer(unit: Unit) -> bool:
    """Whether a unit reviews anyone's reports: provinces and districts."""
    return unit.kind in (UnitKind.PROVINCE, UnitKind.DISTRICT)


def reviews(reviewer: Unit, target: Unit) -> bool:
    """Whether ``reviewer`` reviews ``target``'s reports (never its own)."""
    if reviewer.unit_id == target.unit_id:
        return False
    if reviewer.kind == UnitKind.PROVINCE:
        return target.province_id == reviewer.province_id
    if reviewer.kind == UnitKind.DISTRICT:
        return target.district_id == reviewer.unit_id
    return False


def goes_to_province(target: Unit) -> bool:
    """A report no district reviews: a district's own, or a unit without a district."""
    return target.kind == UnitKind.DISTRICT or target.district_id in (None, target.unit_id)


def reviewed_units(
    reviewer: Unit, registry: Registry, dataset: str, day: date, reported: Iterable[str] = ()
) -> list[Unit]:
    """The units ``reviewer`` reviews for ``dataset`` on ``day``: the ones that must report
    it that day, and any in scope that did report it (``reported``, unit ids).

    Ordered for reading: by district (a district before its units), then by unit id.
    """
    extra = set(reported)
    pool = registry.filter(province=reviewer.province_id)
    found = [
        u
        for u in pool
        if reviews(reviewer, u)
        and ((dataset in u.datasets and u.is_active(day)) or u.unit_id in extra)
    ]
    return sorted(found, key=review_order)


def review_order(unit: Unit) -> tuple[str, bool, str]:
    return (unit.district_id or "", unit.kind != UnitKind.DISTRICT, unit.unit_id)


def judge(
    reviewer: Unit, target: Unit, action: ApprovalAction, day: UnitDay, reason: str = ""
) -> Reason | None:
    """None if ``reviewer`` may take ``action`` on ``target``'s unit-day now; else why not."""
    who = _who(reviewer, target, action)
    if who is not None:
        return who
    if day.state == "not_reported" or day.revision is None:
        return _no(
            "not_reported",
            f"{target.name} chưa gửi báo cáo ngày này: chưa có gì để duyệt.",
            f"{target.unit_id} has not reported for this day: nothing to review.",
        )
    if action == "return" and not reason.strip():
        return Reason.of(
            "reason_required",
            "reason",
            "Trả lại báo cáo phải nêu lý do.",
            "Returning a report needs a reason.",
        )
    # An accepted report: only the province may go back on it, by returning it.
    overrides = reviewer.kind != UnitKind.PROVINCE or action == "approve"
    if day.state == "accepted" and action != "accept" and overrides:
        return _no(
            "already_accepted",
            f"Báo cáo của {target.name} đã được tỉnh chấp nhận; "
            f"không {_DONE_VI[action]} được nữa"
            + (" (tỉnh có thể trả lại)." if action == "approve" else "."),
            f"The report of {target.unit_id} was accepted by the province; it can no "
            f"longer be {_done_en(action)}"
            + (" (the province may return it)." if action == "approve" else "."),
        )
    if action == "accept":
        return _acceptable(target, day)
    return None  # approve from submitted/returned/reopened/approved (a repeat); return always


def repeats(action: ApprovalAction, day: UnitDay) -> bool:
    """Whether ``action`` was already taken on the unit-day's latest revision: recording
    it again changes nothing (an approval sent twice is one approval, not an error)."""
    return (action, day.state) in (("approve", "approved"), ("accept", "accepted"))


def can(reviewer: Unit, target: Unit, day: UnitDay) -> list[ApprovalAction]:
    """The actions ``reviewer`` may take on the unit-day now (``return`` with a reason),
    leaving out a repeat of what is already done."""
    return [
        a
        for a in ACTIONS
        if judge(reviewer, target, a, day, reason="-") is None and not repeats(a, day)
    ]


def _who(reviewer: Unit, target: Unit, action: ApprovalAction) -> Reason | None:
    if reviewer.unit_id == target.unit_id:
        return _no(
            "own_report",
            "Không ai tự duyệt báo cáo của chính mình; báo cáo này do cấp trên duyệt.",
            "Nobody reviews its own report; the level above reviews this one.",
        )
    if not is_reviewer(reviewer):
        return _no(
            "not_a_reviewer",
            f"{reviewer.name} không duyệt báo cáo của đơn vị khác (chỉ huyện và tỉnh duyệt).",
            f"{reviewer.unit_id} reviews nobody's reports (districts and provinces do).",
        )
    if not reviews(reviewer, target):
        return _no(
            "not_yours_to_review",
            f"{target.name} không thuộc phạm vi duyệt của {reviewer.name}.",
            f"{target.unit_id} is not among the units {reviewer.unit_id} reviews.",
        )
    if action == "accept" and reviewer.kind != UnitKind.PROVINCE:
        return _no(
            "province_accepts",
            "Chỉ tỉnh chấp nhận báo cáo; huyện duyệt hoặc trả lại.",
            "Only the province accepts reports; a district approves or returns them.",
        )
    return None


def _acceptable(target: Unit, day: UnitDay) -> Reason | None:
    if day.state in ("approved", "accepted"):
        return None
    if goes_to_province(target) and day.state in ("submitted", "reopened", "returned"):
        return None  # nobody below the province reviews it
    return _no(
        "not_approved_yet",
        f"Báo cáo của {target.name} ({_STATE_VI[day.state]}) cần huyện duyệt trước khi "
        "tỉnh chấp nhận.",
        f"The report of {target.unit_id} ({day.state}) must be approved by its district "
        "before the province accepts it.",
    )


def _done_en(action: ApprovalAction) -> str:
    return {"approve": "approved", "accept": "accepted", "return": "returned"}[action]


def _no(code: str, vi: str, en: str) -> Reason:
    return Reason.of(code, "units", vi, en)
