"""Building reports from what submitters type or upload, and checking them before sending."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.errors import SubmissionError
from contract.registry import Registry
from producers.csvfile import read_reports
from producers.ingest import build_report, parse_date, parse_json_report, preflight

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2021, 7, 27, 2, 30, tzinfo=UTC)  # 09:30 in Hà Nội, before the deadline
REPORT_ID = "0b6c43a4-4b5b-4a43-9d1e-5f7f6a3c2e10"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def fields(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "dataset": "district-daily",
        "unit_id": "173",
        "report_date": "2021-07-27",
        "values": {"cases_new": 3, "tests_pcr": 420, "tests_pcr_positive": 3},
    }
    base.update(overrides)
    return base


def codes(exc: pytest.ExceptionInfo[SubmissionError]) -> list[tuple[str, str]]:
    return [(p.code, p.field) for p in exc.value.reasons]


def assert_bilingual(exc: pytest.ExceptionInfo[SubmissionError]) -> None:
    for p in exc.value.reasons:
        assert p.message_vi.strip() and p.message_en.strip() and p.message_vi != p.message_en


# --- build_report ------------------------------------------------------------------------


def test_build_report_stamps_the_clock_and_a_fresh_uuid(clock: ManualClock) -> None:
    first = build_report(fields(), clock, "nguyen.van.a")
    assert first.submitted_at == NOW
    assert first.submitted_by == "nguyen.van.a"
    assert first.report_id.version == 4
    assert first.values == {"cases_new": 3, "tests_pcr": 420, "tests_pcr_positive": 3}
    clock.advance(timedelta(minutes=5))
    second = build_report(fields(), clock, "nguyen.van.a")
    assert second.submitted_at == NOW + timedelta(minutes=5)
    assert second.report_id != first.report_id


def test_build_report_keeps_a_given_report_id(clock: ManualClock) -> None:
    report = build_report(fields(report_id=REPORT_ID), clock, "me")
    assert report.report_id == uuid.UUID(REPORT_ID)


@pytest.mark.parametrize("stamp", ["2021-07-27T01:00:00+07:00", None, ""])
def test_build_report_refuses_a_submitter_chosen_submitted_at(
    clock: ManualClock, stamp: str | None
) -> None:
    with pytest.raises(SubmissionError) as exc:
        build_report(fields(submitted_at=stamp), clock, "me")
    assert codes(exc) == [("submitted_at_not_allowed", "submitted_at")]
    assert_bilingual(exc)


def test_build_report_lists_every_shape_problem(clock: ManualClock) -> None:
    with pytest.raises(SubmissionError) as exc:
        build_report(
            fields(report_date="27/07/2021", values={"cases_new": -1, "deaths": 1.5}), clock, "me"
        )
    assert sorted(codes(exc)) == [
        ("invalid_field", "report_date"),
        ("invalid_field", "values.cases_new"),
        ("invalid_field", "values.deaths"),
    ]
    assert_bilingual(exc)


def test_build_report_refuses_values_json_cannot_carry(clock: ManualClock) -> None:
    with pytest.raises(SubmissionError) as exc:
        build_report(fields(values={"cases_new": {1, 2}}), clock, "me")
    assert [p.code for p in exc.value.reasons] == ["invalid_report"]


# --- parse_json_report -------------------------------------------------------------------


def test_parse_json_report_reads_one_object(clock: ManualClock) -> None:
    report = parse_json_report(json.dumps(fields()).encode(), clock, "me")
    assert report.unit_id == "173" and report.report_date == date(2021, 7, 27)
    assert report.submitted_at == NOW


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"dataset=district-daily", "not_json"),
        (b"\xff\xfe{}", "not_json"),
        (b"", "not_json"),
        (json.dumps([fields()]).encode(), "not_json_object"),
        (b"null", "not_json_object"),
    ],
)
def test_parse_json_report_refuses_what_is_not_one_object(
    clock: ManualClock, raw: bytes, code: str
) -> None:
    with pytest.raises(SubmissionError) as exc:
        parse_json_report(raw, clock, "me")
    assert [p.code for p in exc.value.reasons] == [code]
    assert_bilingual(exc)


def test_parse_json_report_refuses_submitted_at(clock: ManualClock) -> None:
    raw = json.dumps(fields(submitted_at="2021-07-27T08:00:00+07:00")).encode()
    with pytest.raises(SubmissionError) as exc:
        parse_json_report(raw, clock, "me")
    assert codes(exc) == [("submitted_at_not_allowed", "submitted_at")]


# --- preflight ---------------------------------------------------------------------------


def test_preflight_passes_a_clean_report(
    clock: ManualClock, registry: Registry, catalog: Catalog
) -> None:
    verdict = preflight(build_report(fields(), clock, "me"), registry, catalog, TZ)
    assert verdict.ok and verdict.warnings == []


def test_preflight_lists_all_problems_at_once(
    clock: ManualClock, registry: Registry, catalog: Catalog
) -> None:
    report = build_report(
        fields(values={"cases_neww": 1, "deathz": 2, "vaccine_dose1": 9}), clock, "me"
    )
    with pytest.raises(SubmissionError) as exc:
        preflight(report, registry, catalog, TZ)
    assert sorted(codes(exc)) == [
        ("total_not_allowed", "values.vaccine_dose1"),
        ("unknown_metric", "values.cases_neww"),
        ("unknown_metric", "values.deathz"),
    ]
    assert_bilingual(exc)
    assert "cases_neww" in str(exc.value) and "deathz" in str(exc.value)


def test_preflight_refuses_an_error_rule_and_returns_warnings(
    clock: ManualClock, registry: Registry, catalog: Catalog
) -> None:
    broken = build_report(fields(values={"tests_pcr": 10, "tests_pcr_positive": 11}), clock, "me")
    with pytest.raises(SubmissionError) as exc:
        preflight(broken, registry, catalog, TZ)
    assert codes(exc) == [("pcr_positive_le_tests", "tests_pcr")]

    flagged = build_report(fields(values={"tests_pcr_positive": 2}), clock, "me")
    verdict = preflight(flagged, registry, catalog, TZ)
    assert [(w.code, w.severity) for w in verdict.warnings] == [("pcr_pair", "warning")]


def test_preflight_without_rules_lets_rule_breakers_through_to_the_stream(
    clock: ManualClock, registry: Registry, catalog: Catalog
) -> None:
    broken = build_report(fields(values={"tests_pcr": 10, "tests_pcr_positive": 11}), clock, "me")
    verdict = preflight(broken, registry, catalog, TZ, check_rules=False)
    assert [e.code for e in verdict.errors] == ["pcr_positive_le_tests"]  # for the stream


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"unit_id": "99999"}, "unknown_unit"),
        ({"values": {"cases_neww": 1}}, "unknown_metric"),
        ({"unit_id": "CP-20-01"}, "dataset_not_assigned"),
        ({"report_date": "2021-07-28"}, "future_date"),
    ],
)
def test_preflight_without_rules_still_refuses_what_no_rule_can_fix(
    clock: ManualClock, registry: Registry, catalog: Catalog, overrides: dict[str, Any], code: str
) -> None:
    report = build_report(fields(**overrides), clock, "me")
    with pytest.raises(SubmissionError) as exc:
        preflight(report, registry, catalog, TZ, check_rules=False)
    assert [p.code for p in exc.value.reasons] == [code]


# --- parse_date --------------------------------------------------------------------------


def test_parse_date_reads_iso_dates() -> None:
    assert parse_date(" 2021-07-27 ") == date(2021, 7, 27)


@pytest.mark.parametrize("text", ["27/07/2021", "2021-13-45", "", "hôm nay"])
def test_parse_date_refuses_other_formats(text: str) -> None:
    with pytest.raises(SubmissionError) as exc:
        parse_date(text)
    assert codes(exc) == [("invalid_date", "report_date")]
    assert "YYYY-MM-DD" in exc.value.reasons[0].message_vi


# --- CSV ---------------------------------------------------------------------------------

CSV_OK = (
    "dataset,unit_id,report_date,report_id,note,cases_new,tests_pcr,tests_pcr_positive\n"
    f"district-daily,173,2021-07-27,{REPORT_ID},Phú Bình,3,420,3\n"
    "district-daily,172,2021-07-27,,,,100,0\n"
    "district-daily,164,2021-07-27,,,0, 55 ,1\n"
)


def test_csv_rows_become_reports_and_empty_cells_are_not_reported(clock: ManualClock) -> None:
    reports = read_reports(CSV_OK, clock, "me")
    assert [r.unit_id for r in reports] == ["173", "172", "164"]
    first, second, third = reports
    assert str(first.report_id) == REPORT_ID and first.note == "Phú Bình"
    assert second.values == {"tests_pcr": 100, "tests_pcr_positive": 0}  # cases_new absent
    assert third.values == {"cases_new": 0, "tests_pcr": 55, "tests_pcr_positive": 1}
    assert second.report_id != third.report_id
    assert all(r.submitted_at == NOW and r.submitted_by == "me" for r in reports)


def test_csv_with_excel_bom_is_read(clock: ManualClock) -> None:
    reports = read_reports("\ufeff" + CSV_OK, clock, "me")
    assert [r.dataset for r in reports] == ["district-daily"] * 3


def test_csv_with_windows_line_endings_is_read(clock: ManualClock) -> None:
    assert len(read_reports(CSV_OK.replace("\n", "\r\n"), clock, "me")) == 3


def test_csv_missing_a_required_column_is_refused(clock: ManualClock) -> None:
    text = "dataset,unit,report_date,cases_new\ndistrict-daily,173,2021-07-27,3\n"
    with pytest.raises(SubmissionError) as exc:
        read_reports(text, clock, "me")
    assert codes(exc) == [("csv_header", "header")]
    assert "unit_id" in exc.value.reasons[0].message_vi
    assert "unit_id" in exc.value.reasons[0].message_en


def test_csv_bad_cell_is_reported_with_its_line(clock: ManualClock) -> None:
    text = (
        "dataset,unit_id,report_date,cases_new,deaths\n"
        "district-daily,173,2021-07-27,3,0\n"
        "district-daily,172,2021-07-27,ba,0\n"
    )
    with pytest.raises(SubmissionError) as exc:
        read_reports(text, clock, "me")
    assert codes(exc) == [("invalid_field", "line 3: values.cases_new")]
    assert_bilingual(exc)


def test_csv_reports_every_bad_line_at_once(clock: ManualClock) -> None:
    text = (
        "dataset,unit_id,report_date,cases_new\n"
        "district-daily,173,27/07/2021,3\n"
        "district-daily,172,2021-07-27,-4\n"
        "district-daily,171,2021-07-27,1,9\n"
        "district-daily,170,2021-07-27,1\n"
    )
    with pytest.raises(SubmissionError) as exc:
        read_reports(text, clock, "me")
    assert codes(exc) == [
        ("invalid_field", "line 2: report_date"),
        ("invalid_field", "line 3: values.cases_new"),
        ("csv_row", "line 4"),
    ]
    assert_bilingual(exc)


@pytest.mark.parametrize(
    "text",
    ["dataset,unit_id,report_date,cases_new\n", "dataset,unit_id,report_date,cases_new\n\n\n"],
)
def test_csv_without_data_rows_is_refused(clock: ManualClock, text: str) -> None:
    with pytest.raises(SubmissionError) as exc:
        read_reports(text, clock, "me")
    assert [p.code for p in exc.value.reasons] == ["csv_empty"]
    assert_bilingual(exc)


def test_an_empty_csv_file_is_refused_for_its_header(clock: ManualClock) -> None:
    with pytest.raises(SubmissionError) as exc:
        read_reports("", clock, "me")
    assert [p.code for p in exc.value.reasons] == ["csv_header"]


def test_csv_cannot_set_submitted_at(clock: ManualClock) -> None:
    text = (
        "dataset,unit_id,report_date,submitted_at,cases_new\n"
        "district-daily,173,2021-07-27,2021-07-27T01:00:00+07:00,3\n"
    )
    with pytest.raises(SubmissionError) as exc:
        read_reports(text, clock, "me")
    # Not a hidden override: the column is read as a value key and refused.
    assert [p.field for p in exc.value.reasons] == ["line 2: values.submitted_at"]


# --- regressions of defects found in review -------------------------------------------


def test_csv_short_row_is_reported_not_crashed(clock: ManualClock) -> None:
    text = "dataset,unit_id,report_date,cases_new\ndistrict-daily,173\n"
    with pytest.raises(SubmissionError) as exc:
        read_reports(text, clock, "me")
    assert [p.field.split(":")[0] for p in exc.value.reasons] == ["line 2"]


def test_csv_line_numbers_count_blank_lines(clock: ManualClock) -> None:
    text = (
        "dataset,unit_id,report_date,cases_new\n"
        "\n"
        "district-daily,172,2021-07-27,ba\n"  # physical line 3
    )
    with pytest.raises(SubmissionError) as exc:
        read_reports(text, clock, "me")
    assert codes(exc) == [("invalid_field", "line 3: values.cases_new")]


def test_csv_repeated_column_is_refused(clock: ManualClock) -> None:
    text = "dataset,unit_id,report_date,cases_new,cases_new\ndistrict-daily,173,2021-07-27,1,2\n"
    with pytest.raises(SubmissionError):
        read_reports(text, clock, "me")


def test_csv_with_a_stray_carriage_return_is_a_problem_not_a_crash(clock: ManualClock) -> None:
    # Found by fuzzing the API: csv raised _csv.Error ("new-line character seen in
    # unquoted field") straight through `baocao submit --csv`.
    text = "dataset,unit_id,report_date,note,cases_new\ndistrict-daily,173,2021-07-27,a\rb,3\n"
    with pytest.raises(SubmissionError) as exc:
        read_reports(text, clock, "me")
    assert {p.code for p in exc.value.reasons} == {"csv_row"}
    assert all(p.field.startswith("line ") for p in exc.value.reasons)
