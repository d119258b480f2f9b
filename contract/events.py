"""The events on the pipeline's topics: one pydantic definition each, used by every stage.

Wire format is JSON; the Kafka key of every event is its ``unit_id`` so a unit's
submissions, decisions and alerts stay in one partition and in order.
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from typing import Annotated, Any, Final, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictInt,
    model_validator,
)

from contract.reasons import Reason

#: Largest count the contract can carry (the warehouse stores UInt32); datasets set a
#: lower plausibility limit of their own.
MAX_COUNT = 4_294_967_295
#: Most value entries one report may carry.
MAX_VALUES = 500

MetricKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}(\.[a-z][a-z0-9_]{0,63})?$")]


def _whole_number(value: Any) -> Any:
    """2.0 is the count 2: JSON Schema's ``integer`` (our published schemas) allows it.

    Anything else stays as sent for the strict check: 2.5, true and "2" are refused.
    """
    if type(value) is float and value.is_integer():
        return int(value)
    return value


Count = Annotated[StrictInt, Field(ge=0, le=MAX_COUNT), BeforeValidator(_whole_number)]
UnitId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")]
DatasetCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,63}$")]
ReportDate = Annotated[date, Strict()]
Instant = Annotated[AwareDatetime, Strict()]
NoteText = Annotated[str, Field(max_length=2000)]
ReasonText = Annotated[str, Field(max_length=2000, description="why a correction was made")]
Timeliness = Literal["on_time", "late"]
Severity = Literal["error", "warning"]

SUBMITTED_SCHEMA: Final = "baocao.report/v1"
ACCEPTED_SCHEMA: Final = "baocao.accepted/v1"
REJECTED_SCHEMA: Final = "baocao.rejected/v1"
ALERT_SCHEMA: Final = "baocao.alert/v1"
DEAD_LETTER_SCHEMA: Final = "baocao.deadletter/v1"
LEVEL_SCHEMA: Final = "baocao.level/v1"
APPROVAL_SCHEMA: Final = "baocao.approval/v1"


class _Event(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=True, serialize_by_alias=True
    )

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode()


# A Reason with a severity. On the wire its code is ``rule_id`` and it has no ``field``
# (derived from ``fields``), so the events' schemas are what they were before the type
# was shared (docs/schemas/ is checked by `baocao schemas --check`).
class Violation(Reason):
    """A rule a report broke; ``error`` rejects the report, ``warning`` only flags it."""

    code: str = Field(alias="rule_id", description="the rule, e.g. 'positives_le_tests'")
    field: str = Field("", exclude=True, description="derived: the first of ``fields``")
    fields: list[str] = Field(default_factory=list, description="metrics or fields involved")
    severity: Severity

    @model_validator(mode="before")
    @classmethod
    def _field_from_fields(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("field") and data.get("fields"):
            return {**data, "field": data["fields"][0]}
        return data


class ReportSubmitted(_Event):
    """A unit's counts for one dataset and date, as its submitter sent them."""

    schema_: Literal["baocao.report/v1"] = Field(SUBMITTED_SCHEMA, alias="schema")
    report_id: Annotated[UUID, Strict()] = Field(description="idempotency key; re-sent = duplicate")
    dataset: DatasetCode
    unit_id: UnitId
    report_date: ReportDate
    submitted_at: Instant = Field(description="stamped by baocao's ingest, never by submitters")
    submitted_by: str = Field(min_length=1, max_length=200)
    values: dict[MetricKey, Count] = Field(
        max_length=MAX_VALUES,
        description="metric or metric.option -> count; an absent metric is 'not reported'",
    )
    note: NoteText = ""
    reason: ReasonText = ""

    @property
    def ledger_key(self) -> str:
        """The (unit, dataset, date) a report and its corrections share."""
        return f"{self.unit_id}|{self.dataset}|{self.report_date.isoformat()}"


class ReportAccepted(ReportSubmitted):
    """A submission that passed every error rule, numbered among its corrections."""

    schema_: Literal["baocao.accepted/v1"] = Field(ACCEPTED_SCHEMA, alias="schema")  # type: ignore[assignment]
    revision: int = Field(ge=1, description="1 = first; n = the n-th version for the unit/date")
    timeliness: Timeliness = Field(description="decided by the first accepted submission")
    first_submitted_at: Instant
    deadline: Instant
    warnings: list[Violation] = Field(default_factory=list)
    accepted_at: Instant


class SourceRef(_Event):
    """Where on the broker a message came from."""

    topic: str
    partition: int
    offset: int


class ReportRejected(_Event):
    """A submission refused by the stream, with every reason.

    Fields copied from the submission are optional because a message written straight
    to the topic may not even be JSON; ``submission`` or ``raw`` keeps what arrived.
    """

    schema_: Literal["baocao.rejected/v1"] = Field(REJECTED_SCHEMA, alias="schema")
    rejection_id: Annotated[UUID, Strict()]
    rejected_at: Instant
    report_id: str | None = None
    dataset: str | None = None
    unit_id: str | None = None
    report_date: str | None = None
    submitted_at: str | None = None
    submitted_by: str | None = None
    submission: dict[str, Any] | None = None
    raw: str | None = Field(None, description="the first KiB of a message that was not JSON")
    source: SourceRef | None = None
    errors: list[Violation] = Field(min_length=1)


AlertKind = Literal[
    "reminder",
    "missing",
    "late",
    "rejected",
    "anomaly",
    "level",
    "summary",
    "pipeline",
    "returned",
]
#: An ``anomaly`` alert raises a signal; a later one with the same ``details.signal_id``
#: and ``details.state == "withdrawn"`` takes it back (a correction removed its cause).
SignalState = Literal["active", "withdrawn"]


class Alert(_Event):
    """Something an operator or leadership must know, in Vietnamese and English."""

    schema_: Literal["baocao.alert/v1"] = Field(ALERT_SCHEMA, alias="schema")
    alert_id: str = Field(description="deterministic, so notifiers can drop repeats")
    kind: AlertKind
    severity: Literal["info", "warning", "critical"]
    dataset: str
    unit_id: str
    report_date: ReportDate
    raised_at: Instant
    message_vi: str
    message_en: str
    details: dict[str, Any] = Field(default_factory=dict)


class LevelAssessed(_Event):
    """An epidemic level (cấp độ dịch) for one unit or area, as one rule profile sets it.

    ``period == "day"`` is the provisional level over the 7 days ending ``level_date``;
    ``"week"`` is the official one, assessed on the last day (Sunday) of an ISO week.
    """

    schema_: Literal["baocao.level/v1"] = Field(LEVEL_SCHEMA, alias="schema")
    unit_id: UnitId
    unit_kind: Literal["commune", "district", "province", "checkpoint"]
    level_date: ReportDate
    period: Literal["day", "week"]
    profile: str = Field(min_length=1, max_length=64, description="rule profile id")
    level: int | None = Field(ge=1, le=4, description="1 xanh … 4 đỏ; None: cannot assess")
    criteria: dict[str, float | None] = Field(
        default_factory=dict, description="each criterion's value, e.g. cases per 100,000"
    )
    unconfirmed: list[str] = Field(
        default_factory=list,
        description="thresholds of the profile not confirmed from the decision's text",
    )
    why_vi: str
    why_en: str
    next_vi: str = Field("", description="what would change the level")
    next_en: str = ""
    assessed_at: Instant

    @property
    def key(self) -> str:
        return f"{self.unit_id}|{self.profile}|{self.period}|{self.level_date.isoformat()}"


ApprovalAction = Literal["approve", "accept", "return"]


class ApprovalRecorded(_Event):
    """A reviewer's decision on one unit's report for a dataset and date (DHIS2's approval).

    ``approve``: a district (or the province) has reviewed it; ``accept``: the province
    has; ``return``: sent back to the submitter with a ``reason``. It is about the
    ``revision`` the reviewer saw, whose ``values`` it keeps: a later correction reopens
    it, and the warehouse counts the values that changed (``approval_status``). It never
    holds back a report: the stream decides reports without looking at approvals.
    """

    schema_: Literal["baocao.approval/v1"] = Field(APPROVAL_SCHEMA, alias="schema")
    approval_id: str = Field(
        max_length=200,
        description="<action>:<dataset>:<unit>:<date>:r<revision>; a repeat is a duplicate",
    )
    action: ApprovalAction
    dataset: DatasetCode
    unit_id: UnitId
    report_date: ReportDate
    revision: int = Field(ge=1, description="the revision the reviewer saw")
    values: dict[MetricKey, Count] = Field(
        max_length=MAX_VALUES, description="that revision's values, as reviewed"
    )
    by_name: str = Field(min_length=1, max_length=200, description="the reviewer's token name")
    by_unit: UnitId = Field(description="the reviewer's unit")
    reason: ReasonText = Field("", description="why it was returned (required to return)")
    decided_at: Instant

    @model_validator(mode="after")
    def _return_says_why(self) -> ApprovalRecorded:
        if self.action == "return" and not self.reason.strip():
            raise ValueError("a return needs a reason / trả lại cần nêu lý do")
        return self

    @staticmethod
    def id_of(action: str, dataset: str, unit_id: str, day: date, revision: int) -> str:
        return f"{action}:{dataset}:{unit_id}:{day.isoformat()}:r{revision}"


class DeadLetter(_Event):
    """A message a stage could not use, kept whole with the reason, for an operator."""

    schema_: Literal["baocao.deadletter/v1"] = Field(DEAD_LETTER_SCHEMA, alias="schema")
    source: SourceRef
    stage: Literal["streams", "sink", "notify"]
    reason: str = Field(max_length=2000)
    key_b64: str | None = Field(None, description="the original key, base64")
    value_b64: str = Field(description="the original bytes, base64")
    seen_at: Instant

    @classmethod
    def of(
        cls,
        source: SourceRef,
        stage: Literal["streams", "sink", "notify"],
        reason: str,
        key: bytes | None,
        value: bytes | None,
        seen_at: datetime,
    ) -> DeadLetter:
        return cls(
            source=source,
            stage=stage,
            reason=reason[:2000],
            key_b64=base64.b64encode(key).decode() if key is not None else None,
            value_b64=base64.b64encode(value or b"").decode(),
            seen_at=seen_at,
        )

    @property
    def value(self) -> bytes:
        return base64.b64decode(self.value_b64)


EVENT_MODELS: dict[str, type[_Event]] = {
    "reports.submitted": ReportSubmitted,
    "reports.accepted": ReportAccepted,
    "reports.rejected": ReportRejected,
    "alerts": Alert,
    "levels": LevelAssessed,
    "approvals": ApprovalRecorded,
    "deadletters": DeadLetter,
}


def json_schemas() -> dict[str, str]:
    """Return each event's JSON Schema, keyed by file name, as stable pretty JSON."""
    return {
        f"{topic}.schema.json": json.dumps(
            model.model_json_schema(by_alias=True, mode="serialization"),
            indent=2,
            ensure_ascii=False,
            sort_keys=True,
        )
        + "\n"
        for topic, model in EVENT_MODELS.items()
    }
