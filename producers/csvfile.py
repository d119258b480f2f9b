"""Read many reports from a CSV file: one row per report, one column per value key.

Columns: ``dataset, unit_id, report_date`` and optional ``report_id, note, reason``; every
other column is a value key (``cases_new``, ``vaccine_dose1.age_18_49``). An empty cell
means "not reported", never 0. Every row is checked before anything is sent, and every
problem is reported with its line number.
"""

from __future__ import annotations

import csv
import io
from collections import Counter

from contract.clock import Clock
from contract.errors import SubmissionError
from contract.events import ReportSubmitted
from contract.reasons import Reason
from producers.ingest import build_report

REQUIRED = ("dataset", "unit_id", "report_date")
OPTIONAL = ("report_id", "note", "reason")


def decode_csv(raw: bytes) -> str:
    """Decode an uploaded CSV, refusing anything but UTF-8 with a clear remedy."""
    try:
        return raw.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError as exc:
        raise SubmissionError(
            [
                Reason.of(
                    "csv_encoding",
                    "file",
                    "Tệp CSV không phải UTF-8: trong Excel chọn Lưu thành > CSV UTF-8.",
                    f"The CSV file is not UTF-8 (byte {exc.start}): in Excel use Save As > "
                    "CSV UTF-8.",
                )
            ]
        ) from exc


def _header_problems(header: list[str]) -> list[Reason]:
    problems = []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        problems.append(
            Reason.of(
                "csv_header",
                "header",
                f"Thiếu cột: {', '.join(missing)}.",
                f"Missing column(s): {', '.join(missing)}.",
            )
        )
    repeated = sorted(c for c, n in Counter(header).items() if n > 1)
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


def parse_rows(
    text: str, clock: Clock, submitted_by: str
) -> tuple[list[tuple[int, ReportSubmitted]], list[Reason]]:
    """Parse every row: (line, report) for good rows and the problems of bad ones."""
    # newline="" lets the csv module see quoted line breaks and stray carriage returns.
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        return _parse(reader, clock, submitted_by)
    except csv.Error as exc:  # e.g. an unterminated quote: the file itself is broken
        return [], [
            Reason.of(
                "csv_syntax",
                f"line {reader.line_num}",
                f"Tệp CSV sai cú pháp: {exc}.",
                f"The CSV file is malformed: {exc}.",
            )
        ]


def _parse(
    reader: csv.DictReader[str], clock: Clock, submitted_by: str
) -> tuple[list[tuple[int, ReportSubmitted]], list[Reason]]:
    header = [h.strip() for h in reader.fieldnames or []]
    header_problems = _header_problems(header)
    if header_problems:
        return [], header_problems
    reader.fieldnames = header
    reports: list[tuple[int, ReportSubmitted]] = []
    problems: list[Reason] = []
    for row in reader:
        line = reader.line_num  # the physical line, even after blank lines
        if None in row:
            problems.append(
                Reason.of(
                    "csv_row",
                    f"line {line}",
                    "Dòng có nhiều ô hơn tiêu đề.",
                    "The row has more cells than the header.",
                )
            )
            continue
        if any(row[c] is None for c in header):
            problems.append(
                Reason.of(
                    "csv_row",
                    f"line {line}",
                    "Dòng có ít ô hơn tiêu đề.",
                    "The row has fewer cells than the header.",
                )
            )
            continue
        cells = {c: (v or "").strip() for c, v in row.items() if c is not None}
        fields: dict[str, object] = {c: cells[c] for c in REQUIRED}
        fields.update({c: cells[c] for c in OPTIONAL if cells.get(c)})
        values: dict[str, object] = {}
        for column, cell in cells.items():
            if column in REQUIRED or column in OPTIONAL or not cell:
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
                "Tệp CSV không có dòng số liệu nào.",
                "The CSV file has no data rows.",
            )
        )
    return reports, problems
