"""CSV files as people produce them: Excel's separators and encodings, template headers."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime

import pytest

from contract.clock import ManualClock
from contract.errors import SubmissionError
from contract.reasons import Reason
from producers.csvfile import decode_csv, located, parse_rows, read_reports, sniff_delimiter

NOW = datetime(2021, 7, 27, 2, 30, tzinfo=UTC)
CSV = (
    "dataset,unit_id,report_date,note,cases_new,tests_pcr,tests_pcr_positive\n"
    'district-daily,173,2021-07-27,"Phú Bình, đợt 2",3,420,3\n'
    "district-daily,172,2021-07-27,,,100,0\n"
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def test_a_semicolon_csv_from_excel_is_read(clock: ManualClock) -> None:
    # What Excel's "CSV" writes where the decimal mark is a comma (Vietnamese Windows).
    text = CSV.replace(",", ";").replace('"Phú Bình; đợt 2"', '"Phú Bình, đợt 2"')
    reports = read_reports(text, clock, "me")
    assert [r.unit_id for r in reports] == ["173", "172"]
    assert reports[0].note == "Phú Bình, đợt 2"
    assert reports[0].values == {"cases_new": 3, "tests_pcr": 420, "tests_pcr_positive": 3}


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("dataset,unit_id,report_date\n", ","),
        ("dataset;unit_id;report_date\n", ";"),
        ("dataset\tunit_id\treport_date\n", "\t"),
        ('"note; with, both";dataset;unit_id\n', ";"),  # quoted separators do not count
        ("a;b;c\n", ";"),  # no required column: the separator giving the most cells
        ("", ","),
    ],
)
def test_the_separator_is_the_one_that_makes_the_header(text: str, delimiter: str) -> None:
    assert sniff_delimiter(text) == delimiter


def test_a_tab_separated_utf16_file_with_a_bom_is_read(clock: ManualClock) -> None:
    # Excel's "Unicode text": UTF-16 LE with a BOM, tab separated.
    raw = codecs.BOM_UTF16_LE + CSV.replace(",", "\t").encode("utf-16-le")
    reports = read_reports(decode_csv(raw), clock, "me")
    assert [r.unit_id for r in reports] == ["173", "172"]


def test_a_utf8_bom_is_accepted(clock: ManualClock) -> None:
    assert len(read_reports(decode_csv(codecs.BOM_UTF8 + CSV.encode()), clock, "me")) == 2


@pytest.mark.parametrize(
    "raw",
    [
        CSV.encode("cp1258", "replace"),  # Excel's plain "CSV" on Vietnamese Windows
        CSV.encode("utf-16-be"),  # UTF-16 without its BOM: valid UTF-8 full of NUL bytes
    ],
)
def test_a_file_not_in_utf8_is_refused_in_words(raw: bytes) -> None:
    with pytest.raises(SubmissionError) as exc:
        decode_csv(raw)
    (reason,) = exc.value.reasons
    assert reason.code == "csv_encoding"
    assert reason.message_vi.startswith("Tệp không phải UTF-8")
    assert "hãy lưu lại dưới dạng CSV UTF-8" in reason.message_vi
    assert reason.message_en.startswith("The file is not UTF-8")
    assert "save it as 'CSV UTF-8'" in reason.message_en
    assert "codec" not in reason.message_en


def test_a_header_missing_columns_says_which_columns_were_found(clock: ManualClock) -> None:
    text = "ma_don_vi,ngay,cases_new\n173,2021-07-27,3\n"
    with pytest.raises(SubmissionError) as exc:
        read_reports(text, clock, "me")
    (reason,) = exc.value.reasons
    assert reason.code == "csv_header"
    assert "dataset, unit_id, report_date" in reason.message_en
    assert "Columns found: ma_don_vi, ngay, cases_new." in reason.message_en
    assert "Các cột có trong tệp: ma_don_vi, ngay, cases_new." in reason.message_vi


def test_template_headers_name_their_column_in_brackets_and_empty_rows_are_skipped(
    clock: ManualClock,
) -> None:
    # The Excel template saved as CSV: labels in both languages, then the key.
    text = (
        '"Biểu mẫu\nDataset\n[dataset]";"Mã đơn vị\nUnit ID\n[unit_id]";'
        '"Tên đơn vị\nUnit name\n[unit_name]";"Ngày báo cáo\nReport date\n[report_date]";'
        '"Ca mắc mới (F0)\nNew cases (F0)\n[cases_new]"\n'
        "district-daily;173;Huyện Phú Bình;2021-07-27;4\n"
        "district-daily;172;Huyện Đồng Hỷ;2021-07-27;\n"  # not filled in: skipped
    )
    parsed, problems = parse_rows(text, clock, "me")
    assert problems == []
    assert [(line, r.unit_id, r.values) for line, r in parsed] == [(2, "173", {"cases_new": 4})]


def test_a_trailing_separator_names_no_column(clock: ManualClock) -> None:
    text = "dataset,unit_id,report_date,cases_new,\ndistrict-daily,173,2021-07-27,3,\n"
    assert read_reports(text, clock, "me")[0].values == {"cases_new": 3}


def test_a_value_under_a_column_without_header_is_a_problem(clock: ManualClock) -> None:
    text = "dataset,unit_id,report_date,,cases_new\ndistrict-daily,173,2021-07-27,9,3\n"
    _, problems = parse_rows(text, clock, "me")
    assert [(p.code, p.field) for p in problems] == [("csv_row", "line 2")]


def test_located_names_the_row_and_column_in_both_languages(clock: ManualClock) -> None:
    text = "dataset;unit_id;report_date;cases_new\ndistrict-daily;173;2021-07-27;1\n"
    text += "district-daily;172;2021-07-27;ba\n"
    _, problems = parse_rows(text, clock, "me")
    (reason,) = located(problems)
    assert reason.field == "line 3: values.cases_new"  # for software, unchanged
    assert reason.message_vi == "Dòng 3, cột cases_new: phải là số nguyên"
    assert reason.message_en.startswith("Line 3, column cases_new: ")
    whole_row = Reason.of("csv_row", "line 4", "Dòng có ít ô.", "Fewer cells.")
    rule = Reason(
        code="positives_le_tests",
        field="line 5: tests_pcr_positive",
        message_vi="Số dương tính lớn hơn số xét nghiệm",
        message_en="More positives than tests",
        fields=["tests_pcr", "tests_pcr_positive"],
    )
    row, both = located([whole_row, rule])
    assert (row.message_vi, row.message_en) == ("Dòng 4: Dòng có ít ô.", "Line 4: Fewer cells.")
    assert (
        both.message_en == "Line 5, column tests_pcr, tests_pcr_positive: More positives than tests"
    )
