"""Every bad submission gets a rule id and a message in Vietnamese and English."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from contract.datasets import Catalog
from contract.events import MAX_COUNT, ReportSubmitted, Violation
from contract.registry import Registry
from contract.validation import Verdict, check_submission, decode_submission

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_BYTES = 64 * 1024
PHU_BINH = "173"  # district of Thái Nguyên (19), reports district-daily
PHU_BINH_COMMUNE = "05908"  # a commune of Phú Bình: reports nothing
CHECKPOINT = "CP-20-01"  # Lạng Sơn checkpoint: reports checkpoint-daily


def submission(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "schema": "baocao.report/v1",
        "report_id": "6f1c2b9e-1d1a-4c55-9d2f-2b9d6a1f0c11",
        "dataset": "district-daily",
        "unit_id": PHU_BINH,
        "report_date": "2021-07-27",
        "submitted_at": "2021-07-27T09:00:00+07:00",
        "submitted_by": "can-bo-yte",
        "values": {"cases_new": 3, "tests_pcr": 420, "tests_pcr_positive": 3},
    }
    base.update(overrides)
    return base


def decode(obj: Any) -> tuple[ReportSubmitted | None, dict[str, Any] | None, list[Violation]]:
    return decode_submission(json.dumps(obj).encode(), MAX_BYTES)


def verdict_for(registry: Registry, catalog: Catalog, **overrides: Any) -> Verdict:
    report, _, shape = decode(submission(**overrides))
    assert shape == [] and report is not None
    return check_submission(report, registry, catalog, TZ)


def assert_bilingual(v: Violation) -> None:
    assert v.message_vi.strip() and v.message_en.strip()
    assert v.message_vi != v.message_en
    assert v.severity == "error"


def test_a_valid_report_is_accepted_without_flags(registry: Registry, catalog: Catalog) -> None:
    verdict = verdict_for(registry, catalog)
    assert verdict.ok and verdict.errors == [] and verdict.warnings == []


# --- registry, dataset and value checks --------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "rule_id", "field"),
    [
        pytest.param({"unit_id": "99999"}, "unknown_unit", "unit_id", id="unknown-unit"),
        pytest.param(
            {"dataset": "district-weekly"}, "unknown_dataset", "dataset", id="unknown-dataset"
        ),
        pytest.param(
            {"values": {"cases_neww": 1}},
            "unknown_metric",
            "values.cases_neww",
            id="unknown-metric",
        ),
        pytest.param(
            {"values": {"vaccine_dose1.age_0_11": 5}},
            "unknown_metric",
            "values.vaccine_dose1.age_0_11",
            id="unknown-option",
        ),
        pytest.param(
            {"values": {"cases_new.age_18_49": 5}},
            "unknown_metric",
            "values.cases_new.age_18_49",
            id="option-on-plain-metric",
        ),
        pytest.param(
            {"values": {"people_screened": 5}},
            "unknown_metric",
            "values.people_screened",
            id="metric-of-another-dataset",
        ),
        pytest.param(
            {"values": {"vaccine_dose1": 1200}},
            "total_not_allowed",
            "values.vaccine_dose1",
            id="total-of-disaggregated",
        ),
        pytest.param(
            {"values": {"cases_new": 10_000_001}},
            "value_too_large",
            "values.cases_new",
            id="above-district-max",
        ),
        pytest.param(
            {"values": {"cases_new": MAX_COUNT}},
            "value_too_large",
            "values.cases_new",
            id="contract-max-still-implausible",
        ),
        pytest.param(
            {
                "unit_id": CHECKPOINT,
                "dataset": "checkpoint-daily",
                "values": {"people_screened": 1_000_001},
            },
            "value_too_large",
            "values.people_screened",
            id="above-checkpoint-max",
        ),
        pytest.param({"report_date": "2021-07-28"}, "future_date", "report_date", id="future-date"),
        pytest.param({"values": {}}, "empty_report", "values", id="empty-values"),
        pytest.param(
            {"unit_id": PHU_BINH_COMMUNE},
            "dataset_not_assigned",
            "dataset",
            id="commune-reports-district-daily",
        ),
        pytest.param(
            {"unit_id": CHECKPOINT},
            "dataset_not_assigned",
            "dataset",
            id="checkpoint-reports-district-daily",
        ),
        pytest.param(
            {"report_date": "2025-08-01", "submitted_at": "2025-08-01T09:00:00+07:00"},
            "unit_inactive",
            "unit_id",
            id="district-after-abolition",
        ),
        pytest.param(
            {
                "unit_id": CHECKPOINT,
                "dataset": "checkpoint-daily",
                "values": {"people_screened": 5},
                "report_date": "2022-04-01",
                "submitted_at": "2022-04-01T09:00:00+07:00",
            },
            "unit_inactive",
            "unit_id",
            id="checkpoint-after-closing",
        ),
    ],
)
def test_each_bad_submission_is_refused_with_its_reason(
    registry: Registry, catalog: Catalog, overrides: dict[str, Any], rule_id: str, field: str
) -> None:
    verdict = verdict_for(registry, catalog, **overrides)
    assert not verdict.ok
    assert [e.code for e in verdict.errors] == [rule_id]
    error = verdict.errors[0]
    assert error.fields == [field]
    assert_bilingual(error)


def test_value_at_the_dataset_maximum_is_accepted(registry: Registry, catalog: Catalog) -> None:
    verdict = verdict_for(
        registry,
        catalog,
        unit_id=CHECKPOINT,
        dataset="checkpoint-daily",
        values={"people_screened": 1_000_000},
    )
    assert verdict.ok


def test_every_value_problem_is_reported_at_once(registry: Registry, catalog: Catalog) -> None:
    verdict = verdict_for(
        registry,
        catalog,
        values={"cases_neww": 1, "vaccine_dose1": 5, "deaths": 20_000_000, "f1_new": 7},
    )
    assert sorted((e.code, e.fields[0]) for e in verdict.errors) == [
        ("total_not_allowed", "values.vaccine_dose1"),
        ("unknown_metric", "values.cases_neww"),
        ("value_too_large", "values.deaths"),
    ]


def test_unknown_dataset_message_lists_the_known_ones(registry: Registry, catalog: Catalog) -> None:
    error = verdict_for(registry, catalog, dataset="district-weekly").errors[0]
    assert "district-daily" in error.message_en and "checkpoint-daily" in error.message_en
    assert "district-daily" in error.message_vi


@pytest.mark.parametrize(
    ("submitted_at", "report_date", "future"),
    [
        ("2021-07-27T16:59:00+00:00", "2021-07-28", True),  # 23:59 on the 27th in Hà Nội
        ("2021-07-27T17:01:00+00:00", "2021-07-28", False),  # 00:01 on the 28th in Hà Nội
        ("2021-07-28T00:30:00+07:00", "2021-07-28", False),
        ("2021-07-27T23:30:00+07:00", "2021-07-28", True),
    ],
)
def test_future_date_is_judged_in_local_time(
    registry: Registry, catalog: Catalog, submitted_at: str, report_date: str, future: bool
) -> None:
    verdict = verdict_for(registry, catalog, submitted_at=submitted_at, report_date=report_date)
    assert ("future_date" in [e.code for e in verdict.errors]) is future
    assert verdict.ok is not future


def test_rule_errors_reject_and_warnings_only_flag(registry: Registry, catalog: Catalog) -> None:
    rejected = verdict_for(registry, catalog, values={"tests_pcr": 10, "tests_pcr_positive": 11})
    assert [e.code for e in rejected.errors] == ["pcr_positive_le_tests"]
    assert_bilingual(rejected.errors[0])
    flagged = verdict_for(
        registry,
        catalog,
        values={"cases_new": 3, "cases_community": 1, "tests_pcr": 50, "tests_pcr_positive": 2},
    )
    assert flagged.ok
    assert [w.code for w in flagged.warnings] == ["cases_le_positives"]
    assert flagged.warnings[0].severity == "warning"


# --- wire-level problems -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "vi"),
    [
        pytest.param(
            {"values": {"cases_new": -1}}, "values.cases_new", "không được là số âm", id="negative"
        ),
        pytest.param(
            {"values": {"cases_new": 1.5}}, "values.cases_new", "số nguyên", id="fraction"
        ),
        pytest.param(
            {"values": {"cases_new": True}}, "values.cases_new", "số nguyên", id="boolean"
        ),
        pytest.param(
            {"values": {"cases_new": "3"}}, "values.cases_new", "số nguyên", id="string-count"
        ),
        pytest.param(
            {"values": {"cases_new": MAX_COUNT + 1}},
            "values.cases_new",
            "quá lớn",
            id="beyond-uint32",
        ),
        pytest.param(
            {"values": {"Cases New": 1}},
            "values.Cases New.[key]",
            "sai định dạng",
            id="malformed-key",
        ),
        pytest.param(
            {"report_date": "2021-13-45"}, "report_date", "YYYY-MM-DD", id="impossible-date"
        ),
        pytest.param(
            {"report_date": "27/07/2021"}, "report_date", "YYYY-MM-DD", id="day-first-date"
        ),
        pytest.param(
            {"submitted_at": "2021-07-27T09:00:00"},
            "submitted_at",
            "múi giờ",
            id="naive-submitted-at",
        ),
        pytest.param(
            {"schema": "baocao.report/v2"}, "schema", "không được hỗ trợ", id="wrong-schema"
        ),
        pytest.param({"priority": "high"}, "priority", "không được phép", id="extra-field"),
        pytest.param({"report_id": "report-1"}, "report_id", "UUID", id="report-id-not-uuid"),
        pytest.param({"unit_id": None}, "unit_id", "", id="null-unit"),
    ],
)
def test_malformed_submissions_are_refused_field_by_field(
    overrides: dict[str, Any], field: str, vi: str
) -> None:
    report, obj, violations = decode(submission(**overrides))
    assert report is None
    assert obj is not None  # the JSON object is kept for the rejection event
    assert [(v.code, v.fields) for v in violations] == [("invalid_field", [field])]
    v = violations[0]
    assert_bilingual(v)
    assert v.message_vi.startswith(f"{field}: ") and vi in v.message_vi
    assert v.message_en.startswith(f"{field}: ")


def test_a_missing_field_is_named() -> None:
    obj = submission()
    del obj["unit_id"]
    _, _, violations = decode(obj)
    assert [v.fields for v in violations] == [["unit_id"]]
    assert "thiếu" in violations[0].message_vi and "required" in violations[0].message_en


def test_several_shape_problems_are_reported_together() -> None:
    _, _, violations = decode(
        submission(report_date="27/07/2021", values={"cases_new": -1, "deaths": "two"})
    )
    assert sorted(v.fields[0] for v in violations) == [
        "report_date",
        "values.cases_new",
        "values.deaths",
    ]


def test_a_whole_number_written_with_a_decimal_point_is_that_count() -> None:
    """JSON Schema's integer, which the published schemas and the API document say,
    includes 2.0; a fraction is still refused (the "fraction" case above)."""
    report, _, violations = decode(submission(values={"cases_new": 2.0, "deaths": 0.0}))
    assert violations == [] and report is not None
    assert report.values == {"cases_new": 2, "deaths": 0}
    assert all(type(v) is int for v in report.values.values())


def test_largest_contract_count_passes_the_shape_check() -> None:
    report, _, violations = decode(submission(values={"cases_new": MAX_COUNT}))
    assert violations == [] and report is not None
    assert report.values == {"cases_new": MAX_COUNT}


@pytest.mark.parametrize(
    ("raw", "rule_id"),
    [
        (b"not json", "not_json"),
        (b"\xff\xfe\x00garbage", "not_json"),
        (b'{"dataset": "district-daily",', "not_json"),
        (b"", "not_json"),
        (json.dumps([submission()]).encode(), "not_json_object"),
        (b'"district-daily"', "not_json_object"),
        (b"42", "not_json_object"),
    ],
)
def test_bytes_that_are_not_a_json_object_are_refused(raw: bytes, rule_id: str) -> None:
    report, obj, violations = decode_submission(raw, MAX_BYTES)
    assert report is None and obj is None
    assert [v.code for v in violations] == [rule_id]
    assert_bilingual(violations[0])


def test_oversize_payload_is_refused_before_parsing() -> None:
    limit = 1024
    raw = json.dumps(submission(note="x" * 2000)).encode()
    report, obj, violations = decode_submission(raw, limit)
    assert report is None and obj is None
    assert [v.code for v in violations] == ["payload_too_large"]
    assert_bilingual(violations[0])
    assert str(len(raw)) in violations[0].message_en and "1024" in violations[0].message_vi


def test_payload_exactly_at_the_limit_is_parsed() -> None:
    raw = json.dumps(submission()).encode()
    report, _, violations = decode_submission(raw, len(raw))
    assert violations == [] and report is not None
    assert decode_submission(raw, len(raw) - 1)[2][0].code == "payload_too_large"


# --- deadlines ---------------------------------------------------------------------------


def test_district_deadline_is_15_00_hanoi_time(catalog: Catalog) -> None:
    dataset = catalog.get("district-daily")
    assert dataset is not None
    due = dataset.deadline_at(date(2021, 7, 27), TZ)
    assert due == datetime(2021, 7, 27, 8, 0, tzinfo=UTC)
    assert due.utcoffset() == timedelta(hours=7)
    assert due.isoformat() == "2021-07-27T15:00:00+07:00"


def test_deadline_day_offset_moves_the_deadline_to_a_later_day(catalog: Catalog) -> None:
    dataset = catalog.get("checkpoint-daily")
    assert dataset is not None
    next_day = dataset.model_copy(update={"deadline_day_offset": 1})
    assert next_day.deadline_at(date(2021, 7, 31), TZ) == datetime(2021, 8, 1, 8, 0, tzinfo=UTC)
