"""Row conversion for the warehouse: pure functions, no broker, no database."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from contract.events import (
    Alert,
    LevelAssessed,
    ReportAccepted,
    ReportRejected,
    SourceRef,
    Violation,
)
from contract.registry import Unit, UnitKind
from sinks import rows, signal_rows
from sinks.clickhouse import ClickHouseSink, SinkTopics
from warehouse import units
from warehouse.errors import RowError

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
    assert by_column(units.unit_row(district, 1), units.UNITS_COLUMNS)["district_id"] == "173"
    assert by_column(units.unit_row(commune, 1), units.UNITS_COLUMNS)["district_id"] == "173"


SIGNAL = "anomaly:quiet_days:173:cases_community:2021-07-27"


def anomaly(alert_id: str = SIGNAL, **details: object) -> Alert:
    base: dict[str, object] = {
        "signal_id": SIGNAL,
        "rule": "quiet_days",
        "metric": "cases_community",
        "state": "active",
        "unit_kind": "district",
        "quiet_days": 38,
    }
    return Alert(
        alert_id=alert_id,
        kind="anomaly",
        severity="warning",
        dataset="district-daily",
        unit_id="173",
        report_date=date(2021, 7, 27),
        raised_at=SUBMITTED,
        message_vi="6 ca cộng đồng đầu tiên sau 38 ngày",
        message_en="first 6 community cases after 38 days",
        details={k: v for k, v in (base | details).items() if v is not None},
    )


def test_signal_row_names_the_signal_and_the_state_its_alert_sets() -> None:
    withdrawal = anomaly(f"{SIGNAL}:withdrawn:1", state="withdrawn")
    out = by_column(signal_rows.signal_row(withdrawal), signal_rows.SIGNALS_COLUMNS)
    assert (out["signal_id"], out["alert_id"], out["state"]) == (
        SIGNAL,
        f"{SIGNAL}:withdrawn:1",
        "withdrawn",
    )
    assert (out["rule"], out["metric"], out["unit_kind"]) == (
        "quiet_days",
        "cases_community",
        "district",
    )
    assert (out["unit_id"], out["report_date"]) == ("173", date(2021, 7, 27))
    assert out["changed_at"] == datetime(2021, 8, 1, 7, 30, tzinfo=UTC)
    assert json.loads(str(out["details"]))["quiet_days"] == 38


@pytest.mark.parametrize(
    ("alert_id", "details", "why"),
    [
        (SIGNAL, {"rule": None}, "lack rule"),
        (SIGNAL, {"signal_id": None, "unit_kind": ""}, "lack signal_id, unit_kind"),
        (SIGNAL, {"state": "cleared"}, "state 'cleared'"),
        (SIGNAL, {"unit_kind": "ward"}, "unit_kind 'ward'"),
        ("anomaly:other:173:x:2021-07-27", {}, "is not of signal"),
        (SIGNAL + "x", {}, "is not of signal"),
        (SIGNAL, {"signal_id": SIGNAL.replace("173", "164")}, "does not name unit 173"),
    ],
)
def test_an_anomaly_alert_without_a_usable_signal_is_refused(
    alert_id: str, details: dict[str, object], why: str
) -> None:
    event = anomaly(alert_id, **details)
    if details.get("signal_id"):
        event = event.model_copy(update={"alert_id": details["signal_id"]})
    with pytest.raises(RowError, match=why):
        signal_rows.signal_row(event)


def level(**over: object) -> LevelAssessed:
    fields: dict[str, object] = {
        "unit_id": "173",
        "unit_kind": "district",
        "level_date": date(2021, 9, 20),
        "period": "week",
        "profile": "qd4800",
        "level": 3,
        "criteria": {"cases_per_100k_week": 61.2, "dose1_adults_pct": None},
        "unconfirmed": ["treatment_capacity"],
        "why_vi": "61,2 ca/100.000/tuần",
        "why_en": "61.2 cases/100,000/week",
        "next_vi": "dưới 50 ca/100.000/tuần → cấp 2",
        "next_en": "below 50 cases/100,000/week → level 2",
        "assessed_at": SUBMITTED,
    }
    return LevelAssessed.model_validate(fields | over)


def test_level_row_keeps_criteria_why_and_unknown_levels() -> None:
    out = by_column(signal_rows.level_row(level()), signal_rows.LEVELS_COLUMNS)
    assert (out["unit_id"], out["period"], out["profile"], out["level"]) == (
        "173",
        "week",
        "qd4800",
        3,
    )
    assert json.loads(str(out["criteria"])) == {
        "cases_per_100k_week": 61.2,
        "dose1_adults_pct": None,
    }
    assert out["unconfirmed"] == ["treatment_capacity"]
    assert out["next_vi"] == "dưới 50 ca/100.000/tuần → cấp 2"
    assert out["assessed_at"] == datetime(2021, 8, 1, 7, 30, tzinfo=UTC)
    assert (
        by_column(signal_rows.level_row(level(level=None)), signal_rows.LEVELS_COLUMNS)["level"]
        is None
    )


class RecordingWarehouse:
    """Stands in for the warehouse: records each insert's table, row count and token."""

    def __init__(self) -> None:
        self.inserts: list[tuple[str, int, str | None]] = []

    def insert(
        self, table: str, rows: list[list[object]], columns: object, token: str | None, **kw: object
    ) -> int:
        self.inserts.append((table, len(rows[0]), token))
        return len(rows[0])


def test_the_sink_writes_a_signal_beside_each_anomaly_and_levels_from_their_topic() -> None:
    names = SinkTopics("acc", "rej", "al", "dead", "lev")
    wh = RecordingWarehouse()
    sink = ClickHouseSink(wh, batch_rows=1_000, topics=names)  # type: ignore[arg-type]
    missing = anomaly().model_copy(update={"kind": "missing", "alert_id": "missing|173"})
    sink.add("al", 0, 0, anomaly().to_json())
    sink.add("al", 0, 1, missing.to_json())  # not a signal: an alerts row only
    sink.add("al", 0, 2, anomaly(f"{SIGNAL}:withdrawn:1", state=None).to_json())  # no state
    sink.add("lev", 1, 7, level().to_json())
    assert sink.flush() == {("al", 0): 3, ("lev", 1): 8}
    assert [(t, n) for t, n, _ in wh.inserts] == [("alerts", 2), ("signals", 1), ("levels", 1)]
    assert all(token and token.startswith(f"{t}/") for t, _, token in wh.inserts)
    # The anomaly without a state went whole to the dead letters, not half into the tables.
    (letter,) = sink.outbound
    assert (letter.source.offset, letter.stage) == (2, "sink")
    assert "lack state" in letter.reason
