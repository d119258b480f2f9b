"""Turn decoded events into warehouse rows: pure functions, no I/O.

Each function returns tuples in the column order of its table in ``warehouse.schema``.
A value the warehouse column cannot hold raises ``RowError`` so the sink dead-letters
that one message instead of failing (and retrying) a whole batch forever.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from contract.events import (
    Alert,
    ApprovalRecorded,
    ReportAccepted,
    ReportRejected,
    SourceRef,
    Violation,
)
from warehouse import approval_tables, schema
from warehouse.errors import RowError
from warehouse.table import DATE_MAX, DATE_MIN, Row

REPORT_VALUES_COLUMNS = schema.REPORT_VALUES.column_names
REPORTS_COLUMNS = schema.REPORTS.column_names
REJECTIONS_COLUMNS = schema.REJECTIONS.column_names
ALERTS_COLUMNS = schema.ALERTS.column_names
DEAD_LETTERS_COLUMNS = schema.DEAD_LETTERS.column_names
APPROVALS_COLUMNS = approval_tables.APPROVALS.column_names

INSTANT_MIN = datetime(1900, 1, 1, tzinfo=UTC)
INSTANT_MAX = datetime(2299, 12, 31, 23, 59, 59, tzinfo=UTC)
MAX_REVISION = 65_535
#: Longest raw message kept in a dead letter (payloads above 64 KiB are refused upstream).
MAX_RAW_CHARS = 65_536
MAX_ERROR_CHARS = 4_000


@lru_cache(maxsize=4096)  # metric keys come from a small, fixed set
def split_key(key: str) -> tuple[str, str]:
    """Split ``metric.option`` into (metric, option); option is '' when there is none."""
    metric, _, option = key.partition(".")
    return metric, option


# One encoder for every call: json.dumps with options builds a new one each time.
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def to_json(value: Any) -> str:
    """Compact, stable JSON that keeps Vietnamese letters readable."""
    return _ENCODER.encode(value)


def storable_date(day: date, what: str) -> date:
    if not DATE_MIN <= day <= DATE_MAX:
        raise RowError(f"{what} {day.isoformat()} is outside {DATE_MIN}..{DATE_MAX}")
    return day


def storable_instant(moment: datetime, what: str) -> datetime:
    utc = moment.astimezone(UTC)
    if not INSTANT_MIN <= utc <= INSTANT_MAX:
        raise RowError(f"{what} {moment.isoformat()} is outside what DateTime64 stores")
    return utc


def parse_date(text: str | None) -> date | None:
    """An ISO date from untrusted text, or None when it is absent, invalid or unstorable."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None
    return day if DATE_MIN <= day <= DATE_MAX else None


def _violations(items: list[Violation]) -> str:
    if not items:  # most reports: skip the encoder (it costs ~3 µs even for [])
        return "[]"
    return to_json([v.model_dump(mode="json") for v in items])


class ReportValues:
    """The report_values rows of one accepted report, kept as what they share plus values.

    Every row of a report repeats its id, unit, day, revision and times; only metric,
    option and value differ. Kept this way, appending a report to a column-oriented
    block is a few list extensions (no tuple per row, no transposing), and its two
    instants are converted to DateTime64 ticks once, not once per row.
    """

    __slots__ = ("head", "items", "tail")

    def __init__(self, event: ReportAccepted) -> None:
        if event.revision > MAX_REVISION:
            raise RowError(f"revision {event.revision} is above {MAX_REVISION}")
        day = storable_date(event.report_date, "report_date")
        submitted = storable_instant(event.submitted_at, "submitted_at")
        accepted = storable_instant(event.accepted_at, "accepted_at")
        self.head = (event.report_id, event.dataset, event.unit_id, day)
        self.tail = (event.revision, event.timeliness, submitted, accepted)
        self.items = [(*split_key(key), value) for key, value in sorted(event.values.items())] or [
            ("", "", 0)
        ]

    def __len__(self) -> int:
        return len(self.items)

    def rows(self) -> list[Row]:
        return [(*self.head, *item, *self.tail) for item in self.items]

    def extend_columns(self, columns: list[list[Any]]) -> None:
        """Append these rows to ``columns`` (REPORT_VALUES_COLUMNS order), instants as ticks."""
        n = len(self.items)
        revision, timeliness, submitted, accepted = self.tail
        shared = (*self.head, revision, timeliness, ticks(submitted), ticks(accepted))
        for index, value in zip(_SHARED, shared, strict=True):
            columns[index].extend([value] * n)
        for index, values in zip(_VARYING, zip(*self.items, strict=True), strict=True):
            columns[index].extend(values)


#: Positions in REPORT_VALUES_COLUMNS of metric, option and value, and of the columns every
#: row of a report shares, in the order of ReportValues.head + tail.
_VARYING = tuple(REPORT_VALUES_COLUMNS.index(c) for c in ("metric", "option", "value"))
_SHARED = tuple(
    REPORT_VALUES_COLUMNS.index(c)
    for c in (
        *("report_id", "dataset", "unit_id", "report_date"),  # ReportValues.head
        *("revision", "timeliness", "submitted_at", "accepted_at"),  # ReportValues.tail
    )
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TICK = timedelta(milliseconds=1)  # DateTime64(3): milliseconds since the epoch


def ticks(moment: datetime) -> int:
    """A UTC instant as DateTime64(3) ticks, floored like clickhouse-connect does."""
    return (moment - _EPOCH) // _TICK


def report_value_rows(event: ReportAccepted) -> list[Row]:
    """One row per reported metric key; one marker row (metric '') if nothing was reported."""
    return ReportValues(event).rows()


class ColumnBlock:
    """Rows of one table kept as columns: what a column-oriented insert sends as it is."""

    __slots__ = ("columns", "size")

    def __init__(self, width: int) -> None:
        self.columns: list[list[Any]] = [[] for _ in range(width)]
        self.size = 0

    def add(self, rows: ReportValues | list[Row]) -> None:
        if isinstance(rows, ReportValues):
            rows.extend_columns(self.columns)
        else:
            for row in rows:
                for column, value in zip(self.columns, row, strict=True):
                    column.append(value)
        self.size += len(rows)


def report_row(event: ReportAccepted, ref: SourceRef) -> Row:
    """The audit-trail row of one accepted revision: who, when, what and why."""
    if event.revision > MAX_REVISION:
        raise RowError(f"revision {event.revision} is above {MAX_REVISION}")
    return (
        event.report_id,
        event.dataset,
        event.unit_id,
        storable_date(event.report_date, "report_date"),
        event.revision,
        event.timeliness,
        storable_instant(event.submitted_at, "submitted_at"),
        storable_instant(event.first_submitted_at, "first_submitted_at"),
        storable_instant(event.deadline, "deadline"),
        storable_instant(event.accepted_at, "accepted_at"),
        event.submitted_by,
        to_json(event.values),
        event.note,
        event.reason,
        _violations(event.warnings),
        [w.code for w in event.warnings],
        ref.topic,
        ref.partition,
        ref.offset,
    )


def rejection_row(event: ReportRejected) -> Row:
    """One refused submission with every reason; fields it lacked become '' or NULL."""
    source = event.source
    return (
        event.rejection_id,
        storable_instant(event.rejected_at, "rejected_at"),
        event.report_id or "",
        event.dataset or "",
        event.unit_id or "",
        parse_date(event.report_date),
        event.submitted_at or "",
        event.submitted_by or "",
        [e.code for e in event.errors],
        _violations(event.errors),
        "" if event.submission is None else to_json(event.submission),
        event.raw or "",
        source.topic if source else "",
        source.partition if source else None,
        source.offset if source else None,
    )


def alert_row(event: Alert) -> Row:
    return (
        event.alert_id,
        event.kind,
        event.severity,
        event.dataset,
        event.unit_id,
        storable_date(event.report_date, "report_date"),
        storable_instant(event.raised_at, "raised_at"),
        event.message_vi,
        event.message_en,
        to_json(event.details),
    )


def approval_row(event: ApprovalRecorded) -> Row:
    """One reviewer's decision: who, when, why, and the values of the revision reviewed.

    ``values_json`` is encoded like ``reports.values_json``: ``approval_status`` compares
    the two maps to count the values a correction changed since the approval.
    """
    if event.revision > MAX_REVISION:
        raise RowError(f"revision {event.revision} is above {MAX_REVISION}")
    return (
        event.approval_id,
        event.action,
        event.dataset,
        event.unit_id,
        storable_date(event.report_date, "report_date"),
        event.revision,
        to_json(event.values),
        event.by_name,
        event.by_unit,
        event.reason,
        storable_instant(event.decided_at, "decided_at"),
    )


def dead_letter_row(ref: SourceRef, error: str, raw: bytes | None, seen_at: datetime) -> Row:
    """A message the sink could not store, kept (truncated) for an operator to inspect."""
    text = (raw or b"").decode("utf-8", errors="replace")[:MAX_RAW_CHARS]
    return (ref.topic, ref.partition, ref.offset, error[:MAX_ERROR_CHARS], text, seen_at)
