"""Excel (.xlsx): a template to fill in per dataset and unit, and reading a filled one back.

A district office keeps its daily counts in Excel. The template has one row per unit and
day (the unit, and the units under it that report the dataset, pre-filled), a header
cell per column in Vietnamese with English under it and the column's key in brackets
(``Ca mắc mới (F0)`` / ``New cases (F0)`` / ``[cases_new]``), and whole numbers ≥ 0
enforced by Excel in the value cells. A filled file is read back into the same rows a
CSV gives (``producers.csvfile.parse_table``): one checking path for both formats, with
a sheet's row number as the line.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font, PatternFill  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from openpyxl.worksheet.datavalidation import DataValidation  # type: ignore[import-untyped]

from contract.clock import Clock
from contract.datasets import Catalog, Dataset
from contract.errors import SubmissionError
from contract.reasons import Reason
from contract.registry import Unit
from producers.csvfile import REQUIRED, Parsed, column_key, decode_csv, parse_rows, parse_table

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx is a zip archive
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls
#: An .xlsx inflates ~10x; more than this unpacked is refused before openpyxl reads it.
MAX_UNZIPPED = 32 * 1024 * 1024
#: Rows below the pre-filled ones that still get the whole-number check, for added rows.
SPARE_ROWS = 500
DATA_SHEET = "Báo cáo"
GUIDE_SHEET = "Hướng dẫn - Guide"


@dataclass(frozen=True)
class Column:
    """One template column: its key (the CSV column) and its labels."""

    key: str
    name_vi: str
    name_en: str
    count: bool = False  # a value cell: a whole number ≥ 0
    width: int = 16

    @property
    def header(self) -> str:
        return f"{self.name_vi}\n{self.name_en}\n[{self.key}]"


IDENTITY = (
    Column("dataset", "Biểu mẫu", "Dataset", width=16),
    Column("unit_id", "Mã đơn vị", "Unit ID", width=11),
    Column("unit_name", "Tên đơn vị", "Unit name", width=26),
    Column("report_date", "Ngày báo cáo", "Report date", width=13),
)
TRAILING = (
    Column("note", "Ghi chú", "Note", width=24),
    Column(
        "reason",
        "Lý do sửa (bắt buộc khi sửa sau hạn chót)",
        "Reason for a correction (required after the deadline)",
        width=30,
    ),
)


def columns(dataset: Dataset, catalog: Catalog) -> list[Column]:
    """Every column of the dataset's template: identity, one per value key, note, reason."""
    values = []
    for metric in dataset.metrics:
        category = catalog.categories.get(metric.category) if metric.category else None
        if category is None:
            values.append(Column(metric.code, metric.name_vi, metric.name_en, count=True))
            continue
        values.extend(
            Column(
                f"{metric.code}.{option.code}",
                f"{metric.name_vi} — {option.name_vi}",
                f"{metric.name_en} — {option.name_en}",
                count=True,
            )
            for option in category.options
        )
    return [*IDENTITY, *values, *TRAILING]


def template(dataset: Dataset, catalog: Catalog, rows: list[tuple[Unit, date]]) -> bytes:
    """The .xlsx template: a header, one pre-filled row per (unit, day), and a guide sheet."""
    book = Workbook()
    sheet = book.active
    sheet.title = DATA_SHEET
    cols = columns(dataset, catalog)
    head_fill = PatternFill("solid", fgColor="FBE9E7")
    count_fill = PatternFill("solid", fgColor="FFFDE7")
    for i, col in enumerate(cols, start=1):
        cell = sheet.cell(row=1, column=i, value=col.header)
        cell.font = Font(bold=True)
        cell.fill = head_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[get_column_letter(i)].width = col.width
    sheet.row_dimensions[1].height = 62
    for r, (unit, day) in enumerate(rows, start=2):
        sheet.cell(row=r, column=1, value=dataset.code)
        unit_cell = sheet.cell(row=r, column=2, value=unit.unit_id)
        unit_cell.number_format = "@"  # text: "05908" keeps its leading zero
        sheet.cell(row=r, column=3, value=unit.name)
        sheet.cell(row=r, column=4, value=day).number_format = "yyyy-mm-dd"
        for i, col in enumerate(cols, start=1):
            if col.count:
                sheet.cell(row=r, column=i).fill = count_fill
    first = next(i for i, c in enumerate(cols, start=1) if c.count)
    last = max(i for i, c in enumerate(cols, start=1) if c.count)
    check = DataValidation(
        type="whole",
        operator="greaterThanOrEqual",
        formula1="0",
        allow_blank=True,
        showErrorMessage=True,
        showInputMessage=True,
        errorStyle="stop",
        errorTitle="Số không hợp lệ / Invalid",
        error="Nhập số nguyên ≥ 0; để trống nếu chưa có số liệu.\n"
        "Enter a whole number ≥ 0; leave it blank if not reported.",
        promptTitle="Số nguyên ≥ 0 / Whole number",
        prompt="Để trống = chưa báo cáo (không phải 0).\nBlank = not reported (not 0).",
    )
    check.add(f"{get_column_letter(first)}2:{get_column_letter(last)}{len(rows) + 1 + SPARE_ROWS}")
    sheet.add_data_validation(check)
    sheet.freeze_panes = sheet.cell(row=2, column=len(IDENTITY) + 1)
    _guide(book.create_sheet(GUIDE_SHEET), dataset, cols)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _guide(sheet: Any, dataset: Dataset, cols: list[Column]) -> None:
    lines = [
        f"{dataset.name_vi} / {dataset.name_en}",
        "1. Mỗi dòng là báo cáo của một đơn vị cho một ngày. "
        "/ Each row is one unit's report for one day.",
        "2. Ô để trống = chưa báo cáo (không phải 0); dòng không có số nào được bỏ qua. "
        "/ A blank cell means not reported (not 0); a row without any number is skipped.",
        "3. Không sửa dòng tiêu đề: mã trong ngoặc vuông cho biết cột. "
        "/ Keep the header row: the key in brackets names the column.",
        "4. Gửi tệp ở trang /submit hoặc POST /api/v1/reports:upload; mọi dòng được kiểm tra "
        "trước khi gửi. / Upload it on the /submit page or to POST /api/v1/reports:upload; "
        "every row is checked before any is sent.",
        "5. Sửa số liệu sau hạn chót: điền cột Lý do sửa. "
        "/ A correction after the deadline needs the Reason column.",
        "",
    ]
    for r, text in enumerate(lines, start=1):
        sheet.cell(row=r, column=1, value=text)
    sheet.cell(row=1, column=1).font = Font(bold=True)
    head = len(lines) + 1
    labels = ("Mã / Key", "Tên / Name (vi)", "Name (en)", "Hướng dẫn (vi)", "Help (en)")
    for i, label in enumerate(labels, start=1):
        sheet.cell(row=head, column=i, value=label).font = Font(bold=True)
    helps = {m.code: (m.help_vi, m.help_en) for m in dataset.metrics}
    for r, col in enumerate(cols, start=head + 1):
        help_vi, help_en = helps.get(col.key.split(".")[0], ("", ""))
        for i, text in enumerate((col.key, col.name_vi, col.name_en, help_vi, help_en), start=1):
            sheet.cell(row=r, column=i, value=text)
    for letter, width in zip("ABCDE", (24, 40, 40, 50, 50), strict=True):
        sheet.column_dimensions[letter].width = width


# --------------------------------------------------------------------------- reading


def _refused(code: str, vi: str, en: str) -> SubmissionError:
    return SubmissionError([Reason.of(code, "file", vi, en)])


def cell_text(value: object) -> str:
    """A cell's value as the text a CSV would hold (3.0 -> "3", a date -> "2021-07-27")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()  # never a count: the model says why
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def read_xlsx(raw: bytes) -> list[tuple[int, list[str]]]:
    """The rows of the workbook's report sheet as (row number, cells as text)."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise _unreadable(exc) from exc
    if unpacked > MAX_UNZIPPED:
        raise _refused(
            "xlsx_too_large",
            f"Tệp Excel quá lớn khi giải nén ({unpacked} byte, tối đa {MAX_UNZIPPED}); "
            "hãy chia nhỏ tệp.",
            f"The Excel file is too large unpacked ({unpacked} bytes, at most "
            f"{MAX_UNZIPPED}); split the file.",
        )
    try:
        with warnings.catch_warnings():  # e.g. "Data Validation extension is not supported"
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise _unreadable(exc) from exc
    try:
        sheets = [_rows(sheet) for sheet in book.worksheets]
    except Exception as exc:
        raise _unreadable(exc) from exc
    finally:
        book.close()
    for rows in sheets:  # the report sheet: the first whose header names a required column
        if any(_names_required(cells) for _, cells in rows[:30]):
            return rows
    return sheets[0] if sheets else []


def _rows(sheet: Any) -> list[tuple[int, list[str]]]:
    sheet.reset_dimensions()  # some writers store a wrong size: read every cell there is
    rows = [
        (number, [cell_text(v) for v in values])
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
    ]
    width = max((len(cells) for _, cells in rows), default=0)
    return [(n, cells + [""] * (width - len(cells))) for n, cells in rows]


def _names_required(cells: list[str]) -> bool:
    return any(column_key(c) in REQUIRED for c in cells)


def _unreadable(exc: Exception) -> SubmissionError:
    return _refused(
        "xlsx_invalid",
        "Không đọc được tệp Excel (.xlsx); hãy mở và lưu lại dưới dạng Excel Workbook (.xlsx) "
        f"hoặc CSV UTF-8 ({type(exc).__name__}).",
        "The Excel file (.xlsx) cannot be read; open it and save it again as Excel Workbook "
        f"(.xlsx) or CSV UTF-8 ({type(exc).__name__}).",
    )


def parse_xlsx(raw: bytes, clock: Clock, submitted_by: str) -> tuple[Parsed, list[Reason]]:
    """Parse a filled template (or any sheet with the CSV's columns) into reports."""
    return parse_table(read_xlsx(raw), clock, submitted_by)


def parse_upload(
    raw: bytes, filename: str, clock: Clock, submitted_by: str
) -> tuple[Parsed, list[Reason]]:
    """Parse an uploaded .xlsx or .csv, told apart by content (a zip is an .xlsx).

    Raises SubmissionError for a problem of the whole file (empty, not UTF-8, an old
    .xls, unreadable); returns the rows' problems otherwise, as ``parse_rows`` does.
    """
    if not raw.strip():
        raise _refused("file_empty", "Tệp rỗng.", "The file is empty.")
    if raw.startswith(OLE_MAGIC):
        raise _refused(
            "file_format",
            "Tệp Excel 97-2003 (.xls) không được hỗ trợ; hãy lưu lại dưới dạng .xlsx "
            "hoặc CSV UTF-8.",
            "Excel 97-2003 files (.xls) are not supported; save it as .xlsx or CSV UTF-8.",
        )
    if raw.startswith(ZIP_MAGIC):
        return parse_xlsx(raw, clock, submitted_by)
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise _unreadable(ValueError("not a zip archive"))
    return parse_rows(decode_csv(raw), clock, submitted_by)
