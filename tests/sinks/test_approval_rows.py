"""Approvals in the warehouse: one row per decision, written once, read as review states.

The rows are pure functions; the sink writes them into chDB (the real engine), where
``approval_status`` must say what a reviewer would: approved, accepted, returned with
the reason, or reopened by a correction with how many values changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from contract.events import ApprovalRecorded, SourceRef
from contract.settings import Settings
from sinks import rows
from sinks.clickhouse import Batch, ClickHouseSink, SinkTopics
from tests.sinks.test_sink_rows import accepted, by_column
from warehouse.client import Warehouse
from warehouse.errors import RowError

ICT = timezone(timedelta(hours=7))
DAY = date(2021, 8, 1)
DECIDED = datetime(2021, 8, 1, 16, 0, tzinfo=ICT)
NAMES = SinkTopics("acc", "rej", "al", "dead", "lev", "appr")


def approval(action: str, unit: str, revision: int = 1, **over: Any) -> ApprovalRecorded:
    fields: dict[str, Any] = {
        "approval_id": ApprovalRecorded.id_of(action, "district-daily", unit, DAY, revision),
        "action": action,
        "dataset": "district-daily",
        "unit_id": unit,
        "report_date": DAY,
        "revision": revision,
        "values": {"tests_pcr": 40, "cases_new": 5},
        "by_name": "Sở Y tế Thái Nguyên",
        "by_unit": "19",
        "reason": "Số xét nghiệm chưa khớp" if action == "return" else "",
        "decided_at": DECIDED,
        **over,
    }
    return ApprovalRecorded.model_validate(fields)


def test_an_approval_row_keeps_who_when_why_and_the_values_reviewed() -> None:
    out = by_column(rows.approval_row(approval("return", "173")), rows.APPROVALS_COLUMNS)
    assert out["approval_id"] == "return:district-daily:173:2021-08-01:r1"
    assert (out["action"], out["unit_id"], out["report_date"]) == ("return", "173", DAY)
    assert (out["by_name"], out["by_unit"]) == ("Sở Y tế Thái Nguyên", "19")
    assert out["reason"] == "Số xét nghiệm chưa khớp"
    assert out["decided_at"] == datetime(2021, 8, 1, 9, 0, tzinfo=UTC)
    # Encoded as reports.values_json is: approval_status compares the two maps.
    report = by_column(
        rows.report_row(
            accepted({"cases_new": 5, "tests_pcr": 40}), SourceRef(topic="a", partition=0, offset=0)
        ),
        rows.REPORTS_COLUMNS,
    )
    assert out["values_json"] == report["values_json"] == '{"cases_new":5,"tests_pcr":40}'


def test_an_approval_the_warehouse_cannot_hold_is_refused_not_wrapped() -> None:
    with pytest.raises(RowError):
        rows.approval_row(approval("approve", "173", revision=70_000))
    with pytest.raises(RowError):
        rows.approval_row(approval("approve", "173", report_date=date(1960, 1, 1)))


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    settings = Settings(_env_file=None, chdb_path=tmp_path / "wh")  # type: ignore[call-arg]
    with Warehouse.connect(settings) as wh:
        wh.ensure_schema()
        # Unmerged parts: only the insert tokens and the views may absorb repeats.
        wh.command("SYSTEM STOP MERGES approvals")
        yield wh


def write(wh: Warehouse, messages: list[tuple[str, bytes]]) -> tuple[ClickHouseSink, list[Batch]]:
    """One sink instance reading ``messages`` (topic, value) from offset 0 of partition 0."""
    sink = ClickHouseSink(wh, batch_rows=10_000, topics=NAMES)
    written: list[Batch] = []
    sink.on_written = written.append
    offsets: dict[str, int] = {}
    for topic, value in messages:
        sink.add(topic, 0, offsets.setdefault(topic, 0), value)
        offsets[topic] += 1
    sink.flush()
    return sink, written


def test_the_sink_writes_each_decision_once_and_the_views_give_each_reports_state(
    warehouse: Warehouse,
) -> None:
    values = {"cases_new": 5, "tests_pcr": 40}
    reports = [
        accepted(values, unit_id="164"),
        accepted(values, unit_id="165"),
        accepted(values, unit_id="166"),
        accepted(values, unit_id="173"),
        accepted(values, unit_id="166", revision=2).model_copy(
            update={"values": {"cases_new": 6, "tests_pcr": 40, "deaths": 1}}
        ),  # a correction after its approval: one value changed, one added
    ]
    decisions = [
        approval("approve", "164", by_unit="173", by_name="huyen-phu-binh"),
        approval("return", "165"),
        approval("approve", "166", values=values),
        approval("approve", "173"),
        approval("accept", "173", decided_at=DECIDED + timedelta(minutes=5)),
    ]
    messages = [("acc", r.to_json()) for r in reports]
    messages += [("appr", d.to_json()) for d in decisions]
    messages += [("appr", decisions[1].to_json())]  # the same return, delivered twice
    messages += [("appr", b'{"action": "approve"}')]  # not an approval
    sink, written = write(warehouse, messages)
    # The second instance re-reads the same offsets (a crash before the commit).
    write(warehouse, messages)

    # Twice the batches, once the rows (the repeat inside a batch collapses in its part).
    assert warehouse.query_rows("SELECT count() FROM approvals")[0][0] == len(decisions)
    (letter,) = sink.outbound  # the bad one goes whole to the dead letters, with its place
    assert (letter.source.topic, letter.source.offset, letter.stage) == ("appr", 6, "sink")
    (batch,) = [b for b in written if b.topic == "appr"]
    assert batch.rows["approvals"].size == len(decisions) + 1  # the API's feed reads these
    assert batch.last_offset == 6  # the bad message's offset is committed with the rest

    status = {
        row[0]: row[1:]
        for row in warehouse.query_rows(
            "SELECT unit_id, state, revision, approved_revision, changed_values, by_name,"
            " by_unit, reason FROM approval_status WHERE report_date = {d:Date}",
            {"d": DAY},
        )
    }
    assert status == {
        "164": ("approved", 1, 1, 0, "huyen-phu-binh", "173", ""),
        "165": ("returned", 1, 0, 0, "Sở Y tế Thái Nguyên", "19", "Số xét nghiệm chưa khớp"),
        "166": ("reopened", 2, 1, 2, "Sở Y tế Thái Nguyên", "19", ""),
        "173": ("accepted", 1, 1, 0, "Sở Y tế Thái Nguyên", "19", ""),
    }
    # The return counts once however often it was delivered.
    ((decisions_165,),) = warehouse.query_rows(
        "SELECT decisions FROM approvals_latest WHERE unit_id = '165'"
    )
    assert decisions_165 == 1
    stored = warehouse.query_rows("SELECT values_json FROM approvals WHERE unit_id = '166'")
    assert [json.loads(v) for (v,) in stored] == [values]
