"""What the API answers with, and the interfaces the composition root must provide."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contract.events import (
    MAX_VALUES,
    SUBMITTED_SCHEMA,
    ApprovalAction,
    ApprovalRecorded,
    Count,
    DatasetCode,
    MetricKey,
    NoteText,
    ReasonText,
    ReportDate,
    ReportSubmitted,
    UnitId,
    Violation,
)
from contract.reasons import Reason
from producers.kafka import Receipt
from warehouse.approvals import LatestDecision, ReviewRow

ReceiptStatus = Literal["received", "queued", "accepted", "rejected"]
DayStatus = Literal["on_time", "late", "missing", "pending"]


class ErrorBody(BaseModel):
    """Every 4xx answer: a summary in both languages and every reason found."""

    error: str = Field(description="machine-readable kind, e.g. 'validation_failed'")
    message_vi: str
    message_en: str
    reasons: list[Reason] = Field(default_factory=list)


class ReportIn(BaseModel):
    """A report as a submitter sends it; time and submitter are stamped by baocao.

    A body that fits this schema can still be refused (422, every reason listed) by
    the rules beyond a field's shape: the dataset's metrics and limits, the unit, a
    date in the future, a correction after the deadline without a reason.
    """

    # Only the JSON Schema is used (the OpenAPI request body). The route validates the
    # body with the contract's ReportSubmitted, whose field types these are, so the
    # document and the validation cannot drift (tests/producers/http/test_openapi.py).

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: Literal["baocao.report/v1"] = Field(
        SUBMITTED_SCHEMA, alias="schema", description="optional: the contract's version"
    )
    report_id: UUID | None = Field(
        None, description="idempotency key: re-sent = duplicate; generated if absent or null"
    )
    dataset: DatasetCode = Field(examples=["district-daily"])
    unit_id: UnitId = Field(examples=["173"])
    report_date: date = Field(examples=["2021-07-27"], description="the day the counts are for")
    values: dict[MetricKey, Count] = Field(
        max_length=MAX_VALUES,
        json_schema_extra={"additionalProperties": False},  # keys only by the pattern
        examples=[{"cases_new": 3, "tests_pcr": 420}],
        description="metric or metric.option -> count; an absent metric is 'not reported'",
    )
    note: NoteText = ""
    reason: ReasonText = Field("", description="required for a correction after the deadline")


class ReceiptOut(BaseModel):
    """Proof of receipt and the report's status as far as baocao knows it."""

    report_id: str
    unit_id: str
    dataset: str
    report_date: date
    submitted_at: datetime
    submitted_by: str
    status: ReceiptStatus = Field(
        description="received: on the broker, no decision yet (sent again if none comes); "
        "queued: in the outbox until the broker is back; accepted/rejected: decided by the "
        "stream, and in the warehouse"
    )
    message_vi: str = ""
    message_en: str = ""
    revision: int | None = None
    timeliness: Literal["on_time", "late"] | None = None
    warnings: list[Reason] = Field(default_factory=list)
    errors: list[Reason] = Field(default_factory=list)
    partition: int | None = None
    offset: int | None = None
    attempts: int = Field(
        0,
        description="how often the broker acknowledged it: above 1 when it was sent again "
        "because no decision came (a re-send is never counted twice)",
    )


class BatchReceipt(BaseModel):
    """Receipts of a CSV batch, one per row, in file order."""

    count: int
    receipts: list[ReceiptOut]


class ValueChange(BaseModel):
    key: str
    old: int | None
    new: int | None


class RevisionOut(BaseModel):
    """One accepted version of a unit's report, with what changed since the previous one."""

    report_id: str
    dataset: str
    report_date: date
    revision: int
    timeliness: Literal["on_time", "late"]
    submitted_at: datetime
    submitted_by: str
    reason: str
    note: str
    values: dict[str, int]
    changes: list[ValueChange]


class DayOut(BaseModel):
    dataset: str
    report_date: date
    status: DayStatus
    deadline: datetime


class HistoryOut(BaseModel):
    unit_id: str
    revisions: list[RevisionOut]
    days: list[DayOut]


class OptionOut(BaseModel):
    code: str
    name_vi: str
    name_en: str


class MetricOut(BaseModel):
    code: str
    name_vi: str
    name_en: str
    help_vi: str
    help_en: str
    keys: list[str] = Field(description="value keys to send: the code, or code.option per band")
    options: list[OptionOut]


class DatasetOut(BaseModel):
    code: str
    name_vi: str
    name_en: str
    deadline_today: datetime
    metrics: list[MetricOut]


class UnitOut(BaseModel):
    unit_id: str
    name: str
    kind: str


class UnitDatasetsOut(BaseModel):
    unit: UnitOut
    today: date
    datasets: list[DatasetOut]


class MeOut(BaseModel):
    """Who a token belongs to and which units it may submit for."""

    name: str
    unit: UnitOut
    units: list[UnitOut]
    today: date
    now: datetime


class Decision(BaseModel):
    """What the stream decided about a report_id, read back from the warehouse."""

    status: Literal["accepted", "rejected"]
    revision: int | None = None
    timeliness: Literal["on_time", "late"] | None = None
    warnings: list[Violation] = Field(default_factory=list)
    errors: list[Violation] = Field(default_factory=list)


class Revision(BaseModel):
    """One accepted revision as the warehouse stores it."""

    report_id: str
    dataset: str
    unit_id: str
    report_date: date
    revision: int
    timeliness: Literal["on_time", "late"]
    submitted_at: datetime
    submitted_by: str
    values: dict[str, int]
    note: str = ""
    reason: str = ""
    warnings: list[Violation] = Field(default_factory=list)


class ReportLookup(Protocol):
    """Read decisions and revisions back; the composition root implements it on the warehouse.

    Called on start, for history, and when kept state is in doubt: never once per
    submission (``tests/producers/http/test_hot_path.py``).
    """

    def decisions(self, report_ids: list[str]) -> dict[str, Decision]:
        """The stream's decision for each of ``report_ids`` the warehouse holds one for."""
        ...

    def revisions(self, unit_id: str, since: date) -> list[Revision]:
        """A unit's accepted revisions of ``since`` and later days."""
        ...

    def recent(self, since: date) -> list[Revision]:
        """Every unit's accepted revisions of ``since`` and later days, with warnings."""
        ...


class Publisher(Protocol):
    """Put reports on the broker and return once it acknowledged them (acks=all)."""

    def send(self, reports: list[ReportSubmitted]) -> list[Receipt]: ...


# ---------------------------------------------------------------- approvals

#: A field named ``date`` cannot be annotated ``date`` (pydantic resolves the name in the
#: class, where it is the field): the type under another name.
Day = date
ReviewState = Literal["not_reported", "submitted", "approved", "accepted", "returned", "reopened"]
#: Most units one approval request may name (a province has a few hundred).
MAX_APPROVAL_UNITS = 2000


class ReviewerOut(BaseModel):
    unit_id: str
    name: str
    kind: str


class ReviewUnitOut(BaseModel):
    """One unit a reviewer reviews, its report of the day and where its review stands."""

    unit_id: str
    name: str
    kind: str
    district_id: str | None
    revision: int | None = Field(description="the latest revision; null: not reported yet")
    timeliness: Literal["on_time", "late"] | None = Field(
        description="decided by the first submission; a correction never changes it"
    )
    submitted_at: datetime | None = Field(description="when the latest revision was submitted")
    submitted_by: str | None
    values: dict[str, int] = Field(description="the latest revision's values")
    state: ReviewState = Field(
        description="reopened: approved or accepted, then corrected (see changed_values)"
    )
    approved_revision: int | None = Field(description="the revision approved or accepted")
    changed_values: int = Field(description="values a correction changed since the approval")
    by_name: str | None = Field(description="who made the latest decision")
    decided_at: datetime | None
    reason: str | None = Field(description="why it was returned")
    can: list[ApprovalAction] = Field(description="what this token may do with it now")


class ApprovalsOut(BaseModel):
    """The reports a reviewer reviews for one dataset and day."""

    dataset: str
    date: Day
    reviewer: ReviewerOut
    units: list[ReviewUnitOut]


#: A reason that is not blank: a character Python's ``str.strip`` keeps (the server's
#: test, and ApprovalRecorded's), spelled so every JSON Schema regex engine agrees.
SAYS_WHY = "[^\\t-\\r\\x1c- \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"


class ApprovalIn(BaseModel):
    """Approve, accept or return the reports of some units for one dataset and day.

    Each unit is judged on its own: one refused does not stop the others. It is about
    each unit's latest revision, whose values the decision keeps.
    """

    # A return must say why: stated in the schema too, so a body the document calls
    # valid is never refused for it (tests/producers/http/test_openapi.py).
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "if": {"properties": {"action": {"const": "return"}}, "required": ["action"]},
            "then": {"properties": {"reason": {"pattern": SAYS_WHY}}, "required": ["reason"]},
        },
    )

    action: ApprovalAction = Field(
        description="approve (a district, or the province); accept (the province); "
        "return (sent back to the submitter with a reason)"
    )
    dataset: DatasetCode = Field(examples=["district-daily"])
    date: ReportDate = Field(examples=["2021-07-27"], description="the day the reports are for")
    units: list[UnitId] = Field(min_length=1, max_length=MAX_APPROVAL_UNITS, examples=[["173"]])
    reason: ReasonText = Field("", description="required to return; kept with the decision")
    revisions: dict[UnitId, Annotated[int, Field(ge=1)]] = Field(
        default_factory=dict,
        max_length=MAX_APPROVAL_UNITS,
        description="the revision of each unit the reviewer looked at (the listing's "
        "``revision``); a unit corrected since is refused (changed_since_listed), to be "
        "looked at again. A unit not named here is decided on its latest revision.",
    )


class RecordedOut(BaseModel):
    unit_id: str
    approval_id: str
    state: ReviewState = Field(description="the unit-day's state once the decision is stored")


class RefusedOut(BaseModel):
    unit_id: str
    code: str
    message_vi: str
    message_en: str


class ApprovalResultOut(BaseModel):
    """What became of each unit: recorded (on the broker), or refused with why."""

    recorded: list[RecordedOut]
    refused: list[RefusedOut]


class ApprovalBook(Protocol):
    """Read reviews back; the composition root implements it on the warehouse."""

    def listing(self, dataset: str, day: date, units: list[str]) -> list[ReviewRow]:
        """The reported unit-days of ``units`` (absent: not reported)."""
        ...

    def latest_decisions(self, since: date) -> list[LatestDecision]:
        """The newest decision of every unit-day of ``since`` and later days."""
        ...


class ApprovalPublisher(Protocol):
    """Put decisions on the ``approvals`` topic, keyed by unit, once the broker acked them."""

    def send_approvals(self, decisions: list[ApprovalRecorded]) -> None: ...


def jsonable(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
