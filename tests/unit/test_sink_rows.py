"""Row conversion for the warehouse: pure functions, no broker, no database."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from contract.events import (
    Alert,
    ReportAccepted,
    ReportRejected,
    SourceRef,
    Violation,
)
from contract.registry import Unit, UnitKind
from sinks import rows
from sinks.errors import RowError

ICT = timezone(timedelta(hours=7))
SUBMITTED = datetime(2021, 8, 1, 14, 30, tzinfo=ICT)


def accepted(values: dict[str, int], **over: object) -> ReportAccepted:
    fields: dict[str, object] = {
        "report_id": uuid.UUID("00000000-0000-4000-8000-000000000001"),
        "dataset": "district-daily",
        "unit_id": "173",
        "report_date": date(2021, 8, 1),
        "submitted_at": SUBMITTED,
        "submitted_by": "Nguyễn Văn A",
        "values": values,
        "revision": 1,
        "timeliness": "on_time",
        "first_submitted_at": SUBMITTED,
        "deadline": datetime(2021, 8, 1, 15, 0, tzinfo=ICT),
        "accepted_at": SUBMITTED + timedelta(seconds=1),
    }
    fields.update(over)
    return ReportAccepted.model_validate(fields)


def by_column(row: tuple[object, ...], columns: tuple[str, ...]) -> dict[str, object]:
    assert len(row) == len(columns)
    return dict(zip(columns, row, strict=True))


def test_option_key_splits_into_metric_and_option() -> None:
    assert rows.split_key("vaccine_dose2.age_18_49") == ("vaccine_dose2", "age_18_49")
    assert rows.split_key("cases_new") == ("cases_new", "")


def test_value_rows_one_per_key_with_option_timeliness_and_utc_times() -> None:
    event = accepted(
        {"cases_new": 5, "vaccine_dose2.age_18_49": 120}, revision=2, timeliness="late"
    )
    out = [by_column(r, rows.REPORT_VALUES_COLUMNS) for r in rows.report_value_rows(event)]
    assert [(r["metric"], r["option"], r["value"]) for r in out] == [
        ("cases_new", "", 5),
        ("vaccine_dose2", "age_18_49", 120),
    ]
    first = out[0]
    assert first["revision"] == 2
    assert first["timeliness"] == "late"
    assert first["report_date"] == date(2021, 8, 1)
    assert first["submitted_at"] == datetime(2021, 8, 1, 7, 30, tzinfo=UTC)


def test_report_without_values_keeps_one_marker_row() -> None:
    out = rows.report_value_rows(accepted({}))
    assert len(out) == 1
    marker = by_column(out[0], rows.REPORT_VALUES_COLUMNS)
    assert (marker["metric"], marker["option"], marker["value"]) == ("", "", 0)


def test_a_column_block_holds_the_same_rows_with_instants_as_millisecond_ticks() -> None:
    # What the sink inserts (columns, ticks) must be what the row form says, row by row.
    sub_ms = SUBMITTED + timedelta(microseconds=123_999)  # stored as .123: floored, not rounded
    events = [
        accepted({"cases_new": 5, "vaccine_dose2.age_18_49": 120}, submitted_at=sub_ms),
        accepted({}, revision=2),  # the marker row of a revision without values
    ]
    block = rows.ColumnBlock(len(rows.REPORT_VALUES_COLUMNS))
    for event in events:
        block.add(rows.ReportValues(event))
    assert block.size == 3

    def as_ticks(value: object) -> object:
        return rows.ticks(value) if isinstance(value, datetime) else value

    expected = [
        tuple(as_ticks(v) for v in row) for e in events for row in rows.report_value_rows(e)
    ]
    assert list(zip(*block.columns, strict=True)) == expected
    assert by_column(expected[0], rows.REPORT_VALUES_COLUMNS)["submitted_at"] == (
        1_627_803_000_123  # 2021-08-01 07:30:00.123 UTC in ms
    )


def test_revision_beyond_uint16_is_refused_not_wrapped() -> None:
    with pytest.raises(RowError):
        rows.report_value_rows(accepted({"cases_new": 1}, revision=70_000))


def test_report_row_keeps_audit_trail() -> None:
    warning = Violation(
        rule_id="w1", severity="warning", message_vi="Cao bất thường", message_en="Unusually high"
    )
    event = accepted({"deaths": 1}, reason="sửa số liệu", warnings=[warning])
    out = by_column(
        rows.report_row(event, SourceRef(topic="reports.accepted", partition=2, offset=41)),
        rows.REPORTS_COLUMNS,
    )
    assert json.loads(str(out["values_json"])) == {"deaths": 1}
    assert out["reason"] == "sửa số liệu"
    assert json.loads(str(out["warnings"]))[0]["message_vi"] == "Cao bất thường"
    assert out["warning_rules"] == ["w1"]
    assert (out["source_topic"], out["source_partition"], out["source_offset"]) == (
        "reports.accepted",
        2,
        41,
    )


def rejected(**over: object) -> ReportRejected:
    fields: dict[str, object] = {
        "rejection_id": uuid.uuid4(),
        "rejected_at": SUBMITTED,
        "errors": [
            Violation(
                rule_id="json",
                severity="error",
                message_vi="Không phải JSON",
                message_en="Not JSON",
            )
        ],
    }
    fields.update(over)
    return ReportRejected.model_validate(fields)


def test_rejection_of_non_json_message_keeps_raw_and_blanks() -> None:
    event = rejected(
        raw="\x00garbage{", source=SourceRef(topic="reports.submitted", partition=0, offset=7)
    )
    out = by_column(rows.rejection_row(event), rows.REJECTIONS_COLUMNS)
    assert out["raw"] == "\x00garbage{"
    assert (out["report_id"], out["dataset"], out["unit_id"]) == ("", "", "")
    assert out["report_date"] is None
    assert out["submission"] == ""
    assert out["rule_ids"] == ["json"]
    assert json.loads(str(out["errors"]))[0]["message_en"] == "Not JSON"
    assert (out["source_partition"], out["source_offset"]) == (0, 7)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-08-01", date(2021, 8, 1)),
        ("01/08/2021", None),
        ("1969-12-31", None),
        (None, None),
        ("2021-02-30", None),
    ],
)
def test_rejection_report_date_is_parsed_safely(text: str | None, expected: date | None) -> None:
    out = by_column(rows.rejection_row(rejected(report_date=text)), rows.REJECTIONS_COLUMNS)
    assert out["report_date"] == expected


def test_alert_row_serializes_details() -> None:
    alert = Alert(
        alert_id="missing|173|district-daily|2021-08-01",
        kind="missing",
        severity="warning",
        dataset="district-daily",
        unit_id="173",
        report_date=date(2021, 8, 1),
        raised_at=SUBMITTED,
        message_vi="Chưa báo cáo",
        message_en="Not reported",
        details={"deadline": "15:00"},
    )
    out = by_column(rows.alert_row(alert), rows.ALERTS_COLUMNS)
    assert json.loads(str(out["details"])) == {"deadline": "15:00"}
    assert out["message_vi"] == "Chưa báo cáo"


def test_dead_letter_keeps_undecodable_bytes_readable() -> None:
    ref = SourceRef(topic="t", partition=1, offset=2)
    row = rows.dead_letter_row(ref, "bad", b"\xff{", SUBMITTED)
    out = by_column(row, rows.DEAD_LETTERS_COLUMNS)
    assert out["raw"] == "\ufffd{"
    assert out["error"] == "bad"


def test_district_unit_is_its_own_district() -> None:
    district = Unit(
        unit_id="173", name="Phú Bình", kind=UnitKind.DISTRICT, parent_id=None, province_id="19"
    )
    commune = Unit(
        unit_id="05800", name="Xã Úc Kỳ", kind=UnitKind.COMMUNE, province_id="19", district_id="173"
    )
    assert by_column(rows.unit_row(district, 1), rows.UNITS_COLUMNS)["district_id"] == "173"
    assert by_column(rows.unit_row(commune, 1), rows.UNITS_COLUMNS)["district_id"] == "173"
