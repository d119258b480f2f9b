"""Tell the submission desk what the sink has just written: decisions, accepted revisions
and reviewers' decisions (approvals: a correction of an accepted report needs a province token).

The sink runs in the same process as the API. Each batch it writes carries the stream's
decisions, from every channel (API, CLI, CSV, simulator); handed to the desk the moment
the warehouse confirms them, they keep its state current without a query: receipts show
the decision, re-sends and corrections are recognised, and the outbox stops re-sending
what is decided (``tests/producers/http/test_hot_path.py``).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from contract.events import Violation
from producers.http.desk import Desk
from producers.http.known import KnownDecision, KnownRevision, fingerprint_of
from producers.http.models import Decision
from sinks.clickhouse import Batch
from sinks.rows import REJECTIONS_COLUMNS, REPORTS_COLUMNS
from warehouse.approval_tables import APPROVALS

log = logging.getLogger(__name__)

_R = {name: i for i, name in enumerate(REPORTS_COLUMNS)}
_J = {name: i for i, name in enumerate(REJECTIONS_COLUMNS)}
_A = {name: i for i, name in enumerate(APPROVALS.column_names)}


def _violations(text: str) -> list[Violation]:
    return [Violation.model_validate(v) for v in json.loads(text or "[]")]


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def accepted(columns: list[list[Any]]) -> list[KnownRevision]:
    """The accepted revisions in a batch's ``reports`` columns."""
    col = {name: columns[i] for name, i in _R.items()}
    out = []
    for n in range(len(col["report_id"])):
        dataset, unit, day = col["dataset"][n], col["unit_id"][n], col["report_date"][n]
        values = json.loads(col["values_json"][n])
        note, reason = col["note"][n], col["reason"][n]
        out.append(
            KnownRevision(
                report_id=str(col["report_id"][n]),
                dataset=dataset,
                unit_id=unit,
                report_date=day,
                fingerprint=fingerprint_of(dataset, unit, day, values, note, reason),
                submitted_at=_utc(col["submitted_at"][n]),
                submitted_by=col["submitted_by"][n],
                revision=int(col["revision"][n]),
                timeliness=col["timeliness"][n],
                warnings=tuple(_violations(col["warnings"][n])),
            )
        )
    return out


def rejected(columns: list[list[Any]]) -> dict[str, Decision]:
    """The rejections in a batch's ``rejections`` columns that name a report_id."""
    ids, errors = columns[_J["report_id"]], columns[_J["errors"]]
    return {
        rid: Decision(status="rejected", errors=_violations(text))
        for rid, text in zip(ids, errors, strict=True)
        if rid
    }


def reviewed(columns: list[list[Any]]) -> list[KnownDecision]:
    """The review decisions in a batch's ``approvals`` columns."""
    col = {name: columns[i] for name, i in _A.items()}
    return [
        KnownDecision(
            dataset=col["dataset"][n],
            unit_id=col["unit_id"][n],
            report_date=col["report_date"][n],
            action=col["action"][n],
            approval_id=col["approval_id"][n],
            by_name=col["by_name"][n],
            by_unit=col["by_unit"][n],
            decided_at=_utc(col["decided_at"][n]),
        )
        for n in range(len(col["approval_id"]))
    ]


class DecisionFeed:
    """The sink's ``on_written`` callback: pass a written batch's decisions to the desk."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.fed = 0

    def __call__(self, batch: Batch) -> None:
        # Runs on the sink's thread after the warehouse confirmed the batch; a failure
        # here must not fail the sink (the outbox's re-send checks ask the warehouse).
        try:
            decided: dict[str, Decision] = {}
            block = batch.rows.get("rejections")
            if block is not None and block.size:
                decided |= rejected(block.columns)
            block = batch.rows.get("reports")
            if block is not None and block.size:
                revisions = accepted(block.columns)
                self.desk.known.add(revisions)
                decided |= {k.report_id: k.decision() for k in revisions}
            self.desk.outbox.mark_decided(decided)
            self.fed += len(decided)
            block = batch.rows.get("approvals")
            if block is not None and block.size:
                self.desk.decisions.add(reviewed(block.columns))
        except Exception:
            log.exception("could not pass the sink's decisions to the submission desk")
