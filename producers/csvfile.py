"""Read many reports from a CSV file: one row per report, one column per value key.

Columns: ``dataset, unit_id, report_date`` and optional ``report_id, note, reason``
(``unit_name`` is read and ignored: the Excel template has it); every other column is a
value key (``cases_new``, ``vaccine_dose1.age_18_49``). A header cell may carry a label
before its key in brackets, as the Excel template's do (``Ca mắc mới / New cases
[cases_new]``). An empty cell means "not reported", never 0, and a row without any
value, note or reason (a template row left empty) is skipped. Every row is checked
before anything is sent, and every problem is reported with its line: the row number a
spreadsheet shows for it.

The separator is found from the header: ``,``, ``;`` (what Excel writes where the
decimal mark is a comma, Vietnamese included) or a tab. The file is UTF-8, with or
without a BOM, or UTF-16 with a BOM (Excel's "Unicode text"). ``producers.spreadsheet``
reads ``.xlsx`` files into the same rows, checked by ``parse_table`` here.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from contract.clock import Clock
from contract.errors import SubmissionError
from contract.events import ReportSubmitted
from contract.reasons import Reason
from producers.ingest import build_report

REQUIRED = ("dataset", "unit_id", "report_date")
OPTIONAL = ("report_id", "note", "reason")
IGNORED = ("unit_name",)  # for the person filling the file in, not part of a report
DELIMITERS = (",", ";", "\t")
_KEY_IN_BRACKETS = re.compile(r"\[([^\[\]]+)\]\s*$")
_LINE_FIELD = re.compile(r"^line (\d+)(?:: (.*))?$", re.DOTALL)
#: one parsed row: its line (a CSV's physical line, a sheet's row number) and the report
Parsed = list[tuple[int, ReportSubmitted]]


def not_utf8(byte: int) -> SubmissionError:
    """The file's bytes are not UTF-8 text: say so in words, with the remedy."""
    return SubmissionError(
        [
            Reason.of(
                "csv_encoding",
                "file",
                f"Tệp không phải UTF-8 (byte {byte}); hãy lưu lại dưới dạng CSV UTF-8 "
                "(Excel: Lưu thành > CSV UTF-8).",
                f"The file is not UTF-8 (byte {byte}); save it as 'CSV UTF-8' "
                "(Excel: Save As > CSV UTF-8).",
            )
        ]
    )


def decode_csv(raw: bytes) -> str:
    """Decode an uploaded CSV: UTF-8 (BOM or not) or UTF-16 with a BOM; else a clear refusal."""
    try:
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = raw.decode("utf-16")  # Excel's "Unicode text": UTF-16 LE with a BOM
        else:
            text = raw.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError as exc:
        raise not_utf8(exc.start) from exc
    if "\x00" in text:  # valid UTF-8, but text never holds NUL: UTF-16 without its BOM
        raise not_utf8(raw.index(0))
    return text


def column_key(cell: str) -> str:
    """The column a header cell names: itself, or the key in brackets at its end."""
    text = cell.strip().lstrip("\ufeff").strip()
    found = _KEY_IN_BRACKETS.search(text)
    return found.group(1).strip() if found else text


def sniff_delimiter(text: str) -> str:
    """The separator that makes the header hold the most required columns (then cells)."""
    best, score = ",", (-1, -1)
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        found = (0, 0)
        try:
            for _, cells in zip(range(20), reader, strict=False):
                keys = {column_key(c) for c in cells}
                if cells and not found[1]:
                    found = (0, len(cells))
                if keys & set(REQUIRED):
                    found = (len(keys & set(REQUIRED)), len(cells))
                    break
        except csv.Error:
            continue
        if found > score:
            best, score = delimiter, found
    return best


def _header_problems(header: list[str]) -> list[Reason]:
    problems = []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        shown = [c for c in header if c][:20]
        more = "…" if len([c for c in header if c]) > len(shown) else ""
        found_vi = ", ".join(shown) + more if shown else "không có cột nào"
        found_en = ", ".join(shown) + more if shown else "none"
        problems.append(
            Reason.of(
                "csv_header",
                "header",
                f"Thiếu cột: {', '.join(missing)}. Các cột có trong tệp: {found_vi}.",
                f"Missing column(s): {', '.join(missing)}. Columns found: {found_en}.",
            )
        )
    repeated = sorted(c for c, n in Counter(header).items() if n > 1 and c)
    if repeated:
        problems.append(
            Reason.of(
                "csv_header",
                "header",
                f"Cột bị lặp lại: {', '.join(repeated)}.",
                f"Column(s) repeated: {', '.join(repeated)}.",
            )
        )
    return problems


def read_reports(text: str, clock: Clock, submitted_by: str) -> list[ReportSubmitted]:
    """Parse CSV text into reports, or raise SubmissionError listing every bad cell."""
    parsed, problems = parse_rows(text, clock, submitted_by)
    if problems:
        raise SubmissionError(problems)
    return [report for _, report in parsed]


def parse_rows(text: str, clock: Clock, submitted_by: str) -> tuple[Parsed, list[Reason]]:
    """Parse every row: (line, report) for good rows and the problems of bad ones."""
    text = text.lstrip("\ufeff")
    # newline="" lets the csv module see quoted line breaks and stray carriage returns.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    rows: list[tuple[int, list[str]]] = []
    try:
        # The row as a spreadsheet numbers it, blank ones included: the physical line,
        # unless a quoted cell holds a line break (as the Excel template's headers do).
        for row, cells in enumerate(reader, start=1):
            rows.append((row, cells))
    except csv.Error as exc:  # e.g. an unterminated quote: the file itself is broken
        return [], [
            Reason.of(
                "csv_syntax",
                f"line {reader.line_num}",
                f"Tệp CSV sai cú pháp: {exc}.",
                f"The CSV file is malformed: {exc}.",
            )
        ]
    return parse_table(rows, clock, submitted_by)


def _is_header(cells: Sequence[str]) -> bool:
    return any(column_key(c) in REQUIRED for c in cells)


def parse_table(
    rows: Sequence[tuple[int, Sequence[str]]], clock: Clock, submitted_by: str
) -> tuple[Parsed, list[Reason]]:
    """Turn a table's rows (line, cells as text) into reports, CSV and Excel alike.

    The header is the first row naming a required column (rows above it, a title for
    instance, are skipped), else the first non-empty row. A row must not have more
    non-empty cells than the header; a CSV row must have as many cells (a sheet's reader
    pads its rows, since a sheet leaves trailing empty cells out).
    """
    filled = [(line, cells) for line, cells in rows if any(c.strip() for c in cells)]
    start = next((i for i, (_, cells) in enumerate(filled) if _is_header(cells)), 0)
    header = [column_key(c) for c in filled[start][1]] if filled else []
    while header and not header[-1]:  # "a,b,c," : a trailing separator names no column
        header.pop()
    header_problems = _header_problems(header)
    if header_problems:
        return [], header_problems
    reports: Parsed = []
    problems: list[Reason] = []
    skipped = 0
    for line, cells in filled[start + 1 :]:
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            problems.append(
                Reason.of(
                    "csv_row",
                    f"line {line}",
                    "Dòng có nhiều ô hơn tiêu đề.",
                    "The row has more cells than the header.",
                )
            )
            continue
        if len(cells) < len(header):
            problems.append(
                Reason.of(
                    "csv_row",
                    f"line {line}",
                    "Dòng có ít ô hơn tiêu đề.",
                    "The row has fewer cells than the header.",
                )
            )
            continue
        unnamed = [i + 1 for i, c in enumerate(header) if not c and cells[i].strip()]
        if unnamed:
            problems.append(
                Reason.of(
                    "csv_row",
                    f"line {line}",
                    f"Ô ở cột thứ {unnamed[0]} có giá trị nhưng cột không có tiêu đề.",
                    f"The cell in column {unnamed[0]} has a value but the column has no header.",
                )
            )
            continue
        row = {c: v.strip() for c, v in zip(header, cells, strict=False) if c}
        if not any(v for c, v in row.items() if c not in (*REQUIRED, *IGNORED)):
            skipped += 1  # a row left empty: nothing to report
            continue
        fields: dict[str, object] = {c: row[c] for c in REQUIRED}
        fields.update({c: row[c] for c in OPTIONAL if row.get(c)})
        values: dict[str, object] = {}
        for column, cell in row.items():
            if column in REQUIRED or column in OPTIONAL or column in IGNORED or not cell:
                continue
            try:
                values[column] = int(cell)
            except ValueError:
                values[column] = cell  # the model reports it as not an integer
        fields["values"] = values
        try:
            reports.append((line, build_report(fields, clock, submitted_by)))
        except SubmissionError as exc:
            problems.extend(p.at(f"line {line}: ") for p in exc.reasons)
    if not reports and not problems:
        problems.append(
            Reason.of(
                "csv_empty",
                "",
                "Tệp không có dòng số liệu nào"
                + (f" ({skipped} dòng chưa điền số đã bỏ qua)." if skipped else "."),
                "The file has no data rows"
                + (f" ({skipped} rows without any value skipped)." if skipped else "."),
            )
        )
    return reports, problems


def located(reasons: Iterable[Reason]) -> list[Reason]:
    """Name the row and column in each message: "Dòng 3, cột cases_new: …" / "Line 3, …".

    For a person fixing a spreadsheet; the ``field`` ("line 3: values.cases_new") stays
    as it is for software.
    """
    out = []
    for reason in reasons:
        found = _LINE_FIELD.match(reason.field)
        if found is None:
            out.append(reason)
            continue
        line, field = found.group(1), found.group(2) or ""
        names = reason.fields or ([field] if field else [])
        columns = [n.removeprefix("values.") for n in names if n and n != "values"]
        vi_where = f"Dòng {line}, cột {', '.join(columns)}" if columns else f"Dòng {line}"
        en_where = f"Line {line}, column {', '.join(columns)}" if columns else f"Line {line}"
        vi, en = reason.message_vi, reason.message_en
        if field:  # the model's messages start with the field they are about
            vi, en = vi.removeprefix(f"{field}: "), en.removeprefix(f"{field}: ")
        out.append(
            reason.model_copy(
                update={"message_vi": f"{vi_where}: {vi}", "message_en": f"{en_where}: {en}"}
            )
        )
    return out
