"""The Excel template and reading a filled-in .xlsx back into the CSV's rows."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime

import pytest
from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]

from contract.clock import ManualClock
from contract.datasets import Catalog
from contract.errors import SubmissionError
from contract.registry import Registry, Unit, UnitKind
from producers.http.auth import covered_units
from producers.spreadsheet import (
    MAX_UNZIPPED,
    cell_text,
    columns,
    parse_upload,
    parse_xlsx,
    template,
)

NOW = datetime(2021, 7, 27, 2, 30, tzinfo=UTC)
DAY = date(2021, 7, 27)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def book_of(raw: bytes) -> Workbook:
    return load_workbook(io.BytesIO(raw))


def saved(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_template_has_bilingual_headers_keys_and_one_row_per_unit_and_day(
    registry: Registry, catalog: Catalog
) -> None:
    dataset = catalog.get("district-daily")
    assert dataset is not None
    units = [registry.get("173"), registry.get("172")]
    rows = [(u, d) for d in (date(2021, 7, 26), DAY) for u in units if u is not None]
    sheet = book_of(template(dataset, catalog, rows)).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:4] == [
        "Biểu mẫu\nDataset\n[dataset]",
        "Mã đơn vị\nUnit ID\n[unit_id]",
        "Tên đơn vị\nUnit name\n[unit_name]",
        "Ngày báo cáo\nReport date\n[report_date]",
    ]
    assert header[4] == "Ca mắc mới (F0)\nNew cases (F0)\n[cases_new]"
    assert any(h.endswith("[vaccine_dose1.age_18_49]") for h in header)
    assert header[-2:] == [
        "Ghi chú\nNote\n[note]",
        "Lý do sửa (bắt buộc khi sửa sau hạn chót)\n"
        "Reason for a correction (required after the deadline)\n[reason]",
    ]
    body = [[c.value for c in row[:4]] for row in sheet.iter_rows(min_row=2)]
    assert [(r[1], r[3].date()) for r in body] == [
        ("173", date(2021, 7, 26)),
        ("172", date(2021, 7, 26)),
        ("173", DAY),
        ("172", DAY),
    ]
    assert body[0][2] == "Huyện Phú Bình" and body[0][0] == "district-daily"
    assert sheet["B2"].number_format == "@"  # unit ids stay text: "05908" keeps its zero


def test_value_cells_accept_only_whole_numbers_from_zero(
    registry: Registry, catalog: Catalog
) -> None:
    dataset = catalog.get("district-daily")
    assert dataset is not None
    unit = registry.get("173")
    assert unit is not None
    sheet = book_of(template(dataset, catalog, [(unit, DAY)])).worksheets[0]
    (check,) = sheet.data_validations.dataValidation
    assert (check.type, check.operator, check.formula1) == ("whole", "greaterThanOrEqual", "0")
    assert check.allow_blank and check.showErrorMessage
    assert "số nguyên" in check.error and "whole number" in check.error
    cols = columns(dataset, catalog)
    first = next(i for i, c in enumerate(cols) if c.count)
    last = max(i for i, c in enumerate(cols) if c.count)
    letters = [sheet.cell(row=1, column=i + 1).column_letter for i in (first, last)]
    assert str(check.sqref).startswith(f"{letters[0]}2:{letters[1]}")
    assert sheet.freeze_panes == "E2"  # the unit and the day stay in view


def test_a_district_s_communes_are_pre_filled_when_they_report_the_dataset(
    catalog: Catalog,
) -> None:
    district = Unit(
        unit_id="D1",
        name="Huyện Một",
        kind=UnitKind.DISTRICT,
        province_id="P",
        parent_id="P",
        datasets=["district-daily"],
    )
    communes = [
        Unit(
            unit_id=f"0{n}",
            name=f"Xã {n}",
            kind=UnitKind.COMMUNE,
            province_id="P",
            parent_id="D1",
            district_id="D1",
            datasets=["district-daily"],
        )
        for n in (5908, 5911)
    ]
    province = Unit(unit_id="P", name="Tỉnh", kind=UnitKind.PROVINCE, province_id="P")
    registry = Registry([province, district, *communes])
    units = covered_units(district, registry)
    dataset = catalog.get("district-daily")
    assert dataset is not None
    sheet = book_of(template(dataset, catalog, [(u, DAY) for u in units])).worksheets[0]
    got = [(r[1].value, r[2].value) for r in sheet.iter_rows(min_row=2)]
    assert got == [("D1", "Huyện Một"), ("05908", "Xã 5908"), ("05911", "Xã 5911")]


def test_a_filled_template_is_read_back_by_its_row_numbers(
    registry: Registry, catalog: Catalog, clock: ManualClock
) -> None:
    dataset = catalog.get("district-daily")
    unit, other = registry.get("173"), registry.get("172")
    assert dataset is not None and unit is not None and other is not None
    book = book_of(template(dataset, catalog, [(unit, DAY), (other, DAY)]))
    sheet = book.worksheets[0]
    keys = {str(c.value).rsplit("[", 1)[1].rstrip("]"): c.column for c in sheet[1]}
    sheet.cell(row=2, column=keys["cases_new"], value=3)
    sheet.cell(row=2, column=keys["tests_pcr"], value=420.0)  # Excel keeps numbers as floats
    sheet.cell(row=2, column=keys["vaccine_dose1.age_18_49"], value=1200)
    sheet.cell(row=2, column=keys["note"], value="Phú Bình")
    # row 3 left as it was: nothing to report, skipped
    sheet.cell(row=5, column=1, value="district-daily")  # a row a person added below
    sheet.cell(row=5, column=2, value=164)  # typed as a number
    sheet.cell(row=5, column=4, value=datetime(2021, 7, 27))
    sheet.cell(row=5, column=keys["cases_new"], value=2.5)
    parsed, problems = parse_xlsx(saved(book), clock, "me")
    assert [(line, r.unit_id) for line, r in parsed] == [(2, "173")]
    assert parsed[0][1].values == {
        "cases_new": 3,
        "tests_pcr": 420,
        "vaccine_dose1.age_18_49": 1200,
    }
    assert parsed[0][1].note == "Phú Bình" and parsed[0][1].report_date == DAY
    assert [(p.code, p.field) for p in problems] == [("invalid_field", "line 5: values.cases_new")]


def test_a_sheet_with_the_csv_columns_and_a_title_row_is_read(clock: ManualClock) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["Báo cáo ngày 27/7"])  # a title above the header is skipped
    sheet.append(["dataset", "unit_id", "report_date", "cases_new"])
    sheet.append(["district-daily", "173", "2021-07-27", 1])
    parsed, problems = parse_xlsx(saved(book), clock, "me")
    assert problems == [] and [line for line, _ in parsed] == [3]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (3, "3"),
        (3.0, "3"),
        (2.5, "2.5"),
        (True, "TRUE"),
        (datetime(2021, 7, 27), "2021-07-27"),
        (date(2021, 7, 27), "2021-07-27"),
        (" 173 ", " 173 "),
    ],
)
def test_cells_read_as_the_text_a_csv_would_hold(value: object, text: str) -> None:
    assert cell_text(value) == text


def refusal(raw: bytes, name: str = "") -> tuple[str, str, str]:
    with pytest.raises(SubmissionError) as exc:
        parse_upload(raw, name, ManualClock(NOW), "me")
    (reason,) = exc.value.reasons
    return reason.code, reason.message_vi, reason.message_en


def test_a_damaged_or_foreign_file_is_refused_in_words() -> None:
    code, vi, en = refusal(b"PK\x03\x04 not really a zip")
    assert code == "xlsx_invalid" and "Không đọc được tệp Excel" in vi and "cannot be read" in en
    code, vi, en = refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xls")
    assert code == "file_format" and "(.xls)" in vi and "(.xls) are not supported" in en
    code, vi, en = refusal(b"dataset,unit_id\n", "r.xlsx")
    assert code == "xlsx_invalid"
    assert refusal(b" \n")[0] == "file_empty"


def test_a_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (MAX_UNZIPPED + 1))
    code, vi, en = refusal(out.getvalue())
    assert code == "xlsx_too_large" and "chia nhỏ" in vi and "split the file" in en


def test_an_upload_is_told_apart_by_content(clock: ManualClock) -> None:
    book = Workbook()
    book.active.append(["dataset", "unit_id", "report_date", "cases_new"])
    book.active.append(["district-daily", "173", "2021-07-27", 1])
    csv = b"dataset;unit_id;report_date;cases_new\ndistrict-daily;173;2021-07-27;1\n"
    for raw, name in ((saved(book), "r.csv"), (csv, "r.xlsx.txt"), (csv, "")):
        parsed, problems = parse_upload(raw, name, clock, "me")
        assert problems == [] and [r.values for _, r in parsed] == [{"cases_new": 1}]
